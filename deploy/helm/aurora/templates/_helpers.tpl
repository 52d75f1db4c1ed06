{{/* Names and labels shared by every template. */}}
{{- define "aurora.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "aurora.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* aurora.selector: labels selecting one component; call with (list $ "server"). */}}
{{- define "aurora.selector" -}}
{{- $ := index . 0 -}}
app.kubernetes.io/name: {{ $.Chart.Name }}
app.kubernetes.io/instance: {{ $.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "aurora.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "aurora.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "aurora.secretName" -}}
{{- default (printf "%s-secrets" (include "aurora.fullname" .)) .Values.secrets.existingSecret -}}
{{- end -}}

{{- define "aurora.postgresSecretName" -}}
{{- if .Values.postgresql.bundled -}}
{{- printf "%s-postgresql" (include "aurora.fullname" .) -}}
{{- else -}}
{{- required "postgresql.external.existingSecret is required when postgresql.bundled is false" .Values.postgresql.external.existingSecret -}}
{{- end -}}
{{- end -}}

{{/* aurora.hpaMin: the replica floor a role runs with (HPA minimum or its count). */}}
{{- define "aurora.replicas" -}}
{{- $ := index . 0 -}}{{- $role := index . 1 -}}
{{- $hpa := index $.Values.autoscaling $role | default dict -}}
{{- if $hpa.enabled -}}{{ $hpa.minReplicas }}{{- else -}}{{ index $.Values.replicaCounts $role }}{{- end -}}
{{- end -}}

{{/* aurora.env: the environment every role gets. */}}
{{- define "aurora.env" -}}
- name: AURORA_HTTP_ADDR
  value: ":8080"
{{- if .Values.postgresql.bundled }}
- name: POSTGRES_HOST
  value: {{ printf "%s-postgresql" (include "aurora.fullname" .) | quote }}
- name: POSTGRES_PORT
  value: "5432"
- name: POSTGRES_USER
  value: aurora
- name: POSTGRES_DB
  value: aurora
- name: POSTGRES_SSLMODE
  value: disable
{{- else }}
- name: POSTGRES_HOST
  value: {{ required "postgresql.external.host is required when postgresql.bundled is false" .Values.postgresql.external.host | quote }}
- name: POSTGRES_PORT
  value: {{ .Values.postgresql.external.port | quote }}
- name: POSTGRES_USER
  value: {{ .Values.postgresql.external.user | quote }}
- name: POSTGRES_DB
  value: {{ .Values.postgresql.external.database | quote }}
- name: POSTGRES_SSLMODE
  value: {{ .Values.postgresql.external.sslmode | quote }}
{{- with .Values.postgresql.external.readReplicaHost }}
- name: POSTGRES_READ_REPLICA_HOST
  value: {{ . | quote }}
{{- end }}
{{- with .Values.postgresql.external.directUrlKey }}
- name: POSTGRES_DIRECT_URL
  valueFrom:
    secretKeyRef:
      name: {{ $.Values.postgresql.external.existingSecret }}
      key: {{ . }}
{{- end }}
{{- end }}
- name: POSTGRES_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "aurora.postgresSecretName" . }}
      key: {{ .Values.postgresql.bundled | ternary "postgres-password" .Values.postgresql.external.passwordKey }}
{{- with .Values.postgresql.pool.min }}
- name: DB_POOL_MIN
  value: {{ . | quote }}
{{- end }}
{{- with .Values.postgresql.pool.max }}
- name: DB_POOL_MAX
  value: {{ . | quote }}
{{- end }}
{{- if .Values.redis.bundled }}
- name: REDIS_URL
  value: {{ printf "redis://%s-redis:6379/0" (include "aurora.fullname" .) | quote }}
{{- else if .Values.redis.external.existingSecret }}
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.redis.external.existingSecret }}
      key: {{ .Values.redis.external.urlKey }}
{{- end }}
{{- if .Values.weaviate.bundled }}
- name: WEAVIATE_HOST
  value: {{ printf "%s-weaviate" (include "aurora.fullname" .) | quote }}
- name: WEAVIATE_PORT
  value: "8080"
- name: WEAVIATE_GRPC_PORT
  value: "50051"
{{- else if .Values.weaviate.external.host }}
- name: WEAVIATE_HOST
  value: {{ .Values.weaviate.external.host | quote }}
- name: WEAVIATE_PORT
  value: {{ .Values.weaviate.external.port | quote }}
- name: WEAVIATE_GRPC_PORT
  value: {{ .Values.weaviate.external.grpcPort | quote }}
- name: WEAVIATE_SECURE
  value: {{ .Values.weaviate.external.secure | quote }}
{{- end }}
- name: AURORA_SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "aurora.secretName" . }}
      key: AURORA_SECRET_KEY
- name: AURORA_ADMIN_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ include "aurora.secretName" . }}
      key: AURORA_ADMIN_TOKEN
      optional: true
- name: AURORA_ADMIN_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "aurora.secretName" . }}
      key: AURORA_ADMIN_PASSWORD
      optional: true
{{- range .Values.secrets.extraSecretEnv }}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ .secretName }}
      key: {{ .key }}
{{- end }}
{{- range $k, $v := .Values.config }}
{{- if $v }}
- name: {{ $k }}
  value: {{ $v | quote }}
{{- end }}
{{- end }}
{{- end -}}
