package secret

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	vault "github.com/hashicorp/vault/api"
)

// VaultKeyID marks a secrets row whose value lives in Vault: its ciphertext
// column holds the KV path instead. The colon keeps it apart from every
// AURORA_SECRET_KEY id (those allow no colon).
const VaultKeyID = "vault:kv2"

// ErrNotFound is returned when Vault has no value at a path.
var ErrNotFound = errors.New("secret not found")

// VaultConfig says how to reach a Vault KV v2 engine.
type VaultConfig struct {
	Addr string
	// Token authenticates directly; else RoleID and SecretID log in with
	// AppRole (and log in again when the token expires).
	Token    string
	RoleID   string
	SecretID string
	// AppRoleMount is the AppRole auth mount ("approle" when empty).
	AppRoleMount string
	// Mount is the KV v2 mount ("secret" when empty); Prefix is the path
	// under it Aurora owns ("aurora" when empty).
	Mount  string
	Prefix string
	// Timeout bounds one request (10s when zero).
	Timeout    time.Duration
	HTTPClient *http.Client
}

// Vault keeps secret values in a Vault KV v2 engine, one entry per value
// at <mount>/data/<prefix>/<org id>/<id>, field "value".
type Vault struct {
	cfg    VaultConfig
	client *vault.Client
	mu     sync.Mutex // serialises AppRole log-ins
}

// NewVault connects to Vault and, with AppRole, logs in.
func NewVault(ctx context.Context, cfg VaultConfig) (*Vault, error) {
	if cfg.Addr == "" {
		return nil, errors.New("vault: no address")
	}
	if cfg.Token == "" && (cfg.RoleID == "" || cfg.SecretID == "") {
		return nil, errors.New("vault: set VAULT_TOKEN, or VAULT_ROLE_ID and VAULT_SECRET_ID for AppRole")
	}
	if cfg.Mount == "" {
		cfg.Mount = "secret"
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "aurora"
	}
	if cfg.AppRoleMount == "" {
		cfg.AppRoleMount = "approle"
	}
	cfg.Mount = strings.Trim(cfg.Mount, "/")
	cfg.Prefix = strings.Trim(cfg.Prefix, "/")
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	vc := vault.DefaultConfig()
	if vc.Error != nil {
		return nil, fmt.Errorf("vault: %w", vc.Error)
	}
	vc.Address = cfg.Addr
	vc.Timeout = cfg.Timeout
	vc.MaxRetries = 2
	if cfg.HTTPClient != nil {
		vc.HttpClient = cfg.HTTPClient
	}
	c, err := vault.NewClient(vc)
	if err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	// The client picks VAULT_TOKEN up from the environment by itself; the
	// configuration decides instead.
	c.ClearToken()
	v := &Vault{cfg: cfg, client: c}
	if cfg.Token != "" {
		c.SetToken(cfg.Token)
		return v, nil
	}
	if err := v.login(ctx, ""); err != nil {
		return nil, err
	}
	return v, nil
}

// login gets a token with AppRole unless another caller already replaced
// stale since the failed request.
func (v *Vault) login(ctx context.Context, stale string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if stale != "" && v.client.Token() != stale {
		return nil
	}
	c, err := v.client.Clone()
	if err != nil {
		return fmt.Errorf("vault: approle login: %w", err)
	}
	c.ClearToken()
	s, err := c.Logical().WriteWithContext(ctx, "auth/"+v.cfg.AppRoleMount+"/login", map[string]any{"role_id": v.cfg.RoleID, "secret_id": v.cfg.SecretID})
	if err != nil {
		return fmt.Errorf("vault: approle login: %w", err)
	}
	if s == nil || s.Auth == nil || s.Auth.ClientToken == "" {
		return errors.New("vault: approle login: no token in the answer")
	}
	v.client.SetToken(s.Auth.ClientToken)
	return nil
}

// do runs op, logging in again once when an AppRole token was refused
// (expired or revoked).
func (v *Vault) do(ctx context.Context, op func(kv *vault.KVv2) error) error {
	tok := v.client.Token()
	err := op(v.client.KVv2(v.cfg.Mount))
	var re *vault.ResponseError
	if err != nil && v.cfg.Token == "" && errors.As(err, &re) && re.StatusCode == http.StatusForbidden {
		if lerr := v.login(ctx, tok); lerr != nil {
			return lerr
		}
		err = op(v.client.KVv2(v.cfg.Mount))
	}
	return err
}

// NewPath returns a fresh path for one of org's values.
func (v *Vault) NewPath(orgID string) string {
	return v.cfg.Prefix + "/" + orgID + "/" + newID()
}

// Owns reports whether path is one of org's paths under this prefix, so a
// row can never make Aurora read outside its own part of Vault.
func (v *Vault) Owns(orgID, path string) bool {
	rest, ok := strings.CutPrefix(path, v.cfg.Prefix+"/"+orgID+"/")
	return ok && rest != "" && !strings.ContainsAny(rest, "/.")
}

// Write stores value at path (a new version when one exists).
func (v *Vault) Write(ctx context.Context, path string, value []byte) error {
	data := map[string]any{"value": string(value)}
	if !utf8.Valid(value) {
		data = map[string]any{"value": base64.StdEncoding.EncodeToString(value), "encoding": "base64"}
	}
	err := v.do(ctx, func(kv *vault.KVv2) error {
		_, err := kv.Put(ctx, path, data)
		return err
	})
	if err != nil {
		return fmt.Errorf("vault: write %s: %w", path, err)
	}
	return nil
}

// Read returns the value at path.
func (v *Vault) Read(ctx context.Context, path string) ([]byte, error) {
	var s *vault.KVSecret
	err := v.do(ctx, func(kv *vault.KVv2) error {
		var err error
		s, err = kv.Get(ctx, path)
		return err
	})
	if errors.Is(err, vault.ErrSecretNotFound) {
		return nil, fmt.Errorf("vault: read %s: %w", path, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("vault: read %s: %w", path, err)
	}
	val, ok := s.Data["value"].(string)
	if !ok {
		return nil, fmt.Errorf("vault: read %s: no string field \"value\"", path)
	}
	if s.Data["encoding"] == "base64" {
		b, err := base64.StdEncoding.DecodeString(val)
		if err != nil {
			return nil, fmt.Errorf("vault: read %s: %w", path, err)
		}
		return b, nil
	}
	return []byte(val), nil
}

// Delete removes every version of path and its metadata. A path that is
// already gone is not an error.
func (v *Vault) Delete(ctx context.Context, path string) error {
	err := v.do(ctx, func(kv *vault.KVv2) error { return kv.DeleteMetadata(ctx, path) })
	var re *vault.ResponseError
	if errors.As(err, &re) && re.StatusCode == http.StatusNotFound {
		return nil
	}
	if err != nil {
		return fmt.Errorf("vault: delete %s: %w", path, err)
	}
	return nil
}
