package issuer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// MaxDocumentBytes bounds a discovery or JWKS document a relying party
// reads.
const MaxDocumentBytes = 1 << 20

// DiscoverJWKS is what a relying party does first: it reads the issuer's
// OpenID Connect discovery document and returns its jwks_uri, after
// checking that the document names the issuer iss.
func DiscoverJWKS(ctx context.Context, hc *http.Client, iss string) (string, error) {
	var meta struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := GetJSON(ctx, hc, strings.TrimSuffix(iss, "/")+"/.well-known/openid-configuration", &meta); err != nil {
		return "", fmt.Errorf("discovery: %w", err)
	}
	if meta.Issuer != iss {
		return "", fmt.Errorf("discovery: issuer %q is not %q", meta.Issuer, iss)
	}
	if meta.JWKSURI == "" {
		return "", errors.New("discovery: no jwks_uri")
	}
	return meta.JWKSURI, nil
}

// GetJSON GETs a JSON document of at most MaxDocumentBytes into out (a
// discovery document, a JWKS).
func GetJSON(ctx context.Context, hc *http.Client, u string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, MaxDocumentBytes))
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxDocumentBytes+1))
	if err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	if len(b) > MaxDocumentBytes {
		return fmt.Errorf("GET %s: body over %d bytes", u, MaxDocumentBytes)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	return nil
}
