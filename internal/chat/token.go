package chat

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aurora-oss/aurora/internal/auth"
	"github.com/aurora-oss/aurora/internal/secret"
	"github.com/aurora-oss/aurora/internal/storage"
)

// TokenPrefix marks chat tokens.
const TokenPrefix = "aurchat_"

// TokenTTL is how long a chat token may wait before its connection.
const TokenTTL = 60 * time.Second

// tokenAAD binds sealed tokens to their purpose: a sealed secret of the
// secret store cannot be passed off as a chat token, nor the reverse.
var tokenAAD = []byte("aurora-chat-token")

// Claims is what a chat token says: who may connect, until when. The token
// is the claims sealed (AES-GCM) with the deployment's secret key, so it is
// both signed and unreadable to its holder.
type Claims struct {
	OrgID   string    `json:"org"`
	UserID  string    `json:"sub"`
	Role    auth.Role `json:"role"`
	Expires time.Time `json:"exp"`
	// ID makes the token single use (storage.UseChatToken).
	ID string `json:"jti"`
}

// Token errors.
var (
	ErrTokenInvalid = errors.New("invalid chat token")
	ErrTokenExpired = errors.New("chat token expired")
	ErrTokenUsed    = errors.New("chat token already used: ask for a new one for every connection")
)

// IssueToken returns a token for the principal, valid for TokenTTL.
func IssueToken(keys *secret.Keyring, orgID, userID string, role auth.Role, now time.Time) (string, time.Time, error) {
	exp := now.Add(TokenTTL).UTC().Truncate(time.Second)
	c := Claims{OrgID: orgID, UserID: userID, Role: role, Expires: exp, ID: storage.NewID()}
	pt, err := json.Marshal(c)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("encode chat token: %w", err)
	}
	kid, ct := keys.Seal(pt, tokenAAD)
	return TokenPrefix + kid + "." + base64.RawURLEncoding.EncodeToString(ct), exp, nil
}

// ParseToken opens a token and checks its expiry. It does not record its
// use; the caller does (so that a forged token costs no write).
func ParseToken(keys *secret.Keyring, tok string, now time.Time) (Claims, error) {
	var c Claims
	rest, ok := strings.CutPrefix(tok, TokenPrefix)
	if !ok {
		return c, ErrTokenInvalid
	}
	// Key ids are the operator's; the body is base64url (no dots).
	i := strings.LastIndexByte(rest, '.')
	if i <= 0 {
		return c, ErrTokenInvalid
	}
	kid, body := rest[:i], rest[i+1:]
	if kid == "" {
		return c, ErrTokenInvalid
	}
	ct, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return c, ErrTokenInvalid
	}
	pt, err := keys.Open(kid, ct, tokenAAD)
	if err != nil {
		return c, ErrTokenInvalid
	}
	if err := json.Unmarshal(pt, &c); err != nil || c.ID == "" || c.OrgID == "" || c.UserID == "" {
		return Claims{}, ErrTokenInvalid
	}
	if !now.Before(c.Expires) {
		return c, ErrTokenExpired
	}
	return c, nil
}
