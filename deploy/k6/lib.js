// Shared request mix of the k6 scripts: /health, the REST API and the
// generic webhook, in the proportions a busy Aurora sees (reads dominate).
//
// Environment:
//   AURORA_URL    base URL (default http://localhost:8080)
//   AURORA_TOKEN  an editor (or admin) API token; the webhook accepts it too
import http from 'k6/http';
import { check, sleep } from 'k6';

export const BASE = __ENV.AURORA_URL || 'http://localhost:8080';
const TOKEN = __ENV.AURORA_TOKEN || '';

const auth = { headers: { Authorization: `Bearer ${TOKEN}` } };
const json = {
  headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
};

// The checks every script applies: status 200 (202 for webhooks, which
// answer "accepted") and a duration under 500 ms.
function ok(res, name, status) {
  return check(res, {
    [`${name} status ${status}`]: (r) => r.status === status,
    [`${name} duration < 500ms`]: (r) => r.timings.duration < 500,
  });
}

// One iteration of a virtual user.
export function iteration() {
  ok(http.get(`${BASE}/health`, { tags: { name: 'health' } }), 'health', 200);
  ok(http.get(`${BASE}/api/v1/incidents?limit=20`, Object.assign({ tags: { name: 'incidents' } }, auth)), 'incidents', 200);
  ok(http.get(`${BASE}/api/v1/alerts?limit=20`, Object.assign({ tags: { name: 'alerts' } }, auth)), 'alerts', 200);
  // A new alert one time in five (most monitoring traffic is reads and
  // repeats); the fingerprint varies per VU and iteration so each is new.
  if (Math.random() < 0.2) {
    const body = JSON.stringify({
      title: 'k6 load alert',
      severity: 'warning',
      service: `k6-${__VU % 20}`,
      labels: { alertname: 'K6Load', vu: String(__VU), iter: String(__ITER) },
    });
    ok(http.post(`${BASE}/webhooks/generic`, body, Object.assign({ tags: { name: 'webhook' } }, json)), 'webhook', 202);
  }
  sleep(1);
}

export const thresholds = {
  checks: ['rate>0.99'],
  http_req_failed: ['rate<0.01'],
  http_req_duration: ['p(95)<500'],
};
