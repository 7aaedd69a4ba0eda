package schemes

import (
	"context"
	"fmt"

	"github.com/authbench/authbench/wfs"
)

// Key files of the jwt credential in .service/ (all 0600). For HS256,
// JWTKeyFile holds the raw 32-byte workflow key; for ES256 and EdDSA it holds
// the WFS's PKCS#8 PEM private key and JWTPublicKeyFile the PKIX PEM public
// key, so that anyone may verify a token but only the WFS can make one.
// Clients need neither: the WFS mints every token.
const (
	JWTKeyFile       = "jwt.key"
	JWTPublicKeyFile = "jwt.pub"
)

// jwtPart is the jwt credential: a signed JWS (compact) minted by the WFS
// and sent as the request's last frame, beside the request body, which stays
// readable on the wire. The WFS verifies it with exactly one algorithm, the
// scheme's, and applies the lifetime policy (policy.go, tokenserver.go).
//
// Wire: [body, token].
type jwtPart struct {
	alg string
	pol policyConf
}

func jwtInfo() PartInfo {
	return PartInfo{
		Name: "jwt", Kind: Credential,
		Doc:      "signed JWT (JWS compact, HS256 workflow key or ES256/EdDSA WFS key) as an extra frame; claims iss aud sub exp nbf iat jti typ scope",
		Algs:     []string{"HS256", "ES256", "EdDSA"},
		Policies: tokenPolicies(),
		Examples: []string{"jwt", "jwt:command", "jwt:shared=10s", "jwt:timed=60s/6s", "jwt:job=file", "jwt:job=combined", "jwt:job=status", "jwt:task", "jwt:cycle", "jwt/ES256", "jwt/EdDSA"},
		New: func(sp Spec) (Part, error) {
			pol, err := parsePolicy(sp)
			if err != nil {
				return nil, err
			}
			alg := sp.Alg
			if alg == "" {
				alg = "HS256"
			}
			return &jwtPart{alg: alg, pol: pol}, nil
		},
	}
}

func (p *jwtPart) Claims() Claims { return policyClaims(p.pol) }

type jwtServer struct {
	*tokenServer
}

// Server makes the signing key, writes it (and the public key) to .service/
// and provisions the policy.
func (p *jwtPart) Server(_ context.Context, env Env) (ServerPart, error) {
	kit, priv, pub, err := signingKitFrom(p.alg, env.KeysDir)
	if err != nil {
		return nil, fmt.Errorf("jwt: %w", err)
	}
	keyPath := env.Run.Service(JWTKeyFile)
	if err := env.Run.Files.WriteFile(keyPath, priv, 0o600); err != nil {
		return nil, fmt.Errorf("jwt: %w", err)
	}
	keys := []string{keyPath}
	if pub != nil {
		pubPath := env.Run.Service(JWTPublicKeyFile)
		if err := env.Run.Files.WriteFile(pubPath, pub, 0o600); err != nil {
			return nil, fmt.Errorf("jwt: %w", err)
		}
		keys = append(keys, pubPath)
	}
	ts, err := newTokenServer(env, p.pol, kit, keys)
	if err != nil {
		return nil, fmt.Errorf("jwt:%s: %w", p.pol, err)
	}
	return &jwtServer{tokenServer: ts}, nil
}

// Verify takes the token from the last frame and verifies it.
func (s *jwtServer) Verify(_ context.Context, in *wfs.Inbound) (wfs.Principal, error) {
	n := len(in.Frames)
	if n == 0 {
		return wfs.Principal{}, &wfs.Error{Kind: wfs.KindProtocol, Msg: "empty request"}
	}
	if n < 2 {
		return s.noCredential(in.Frames[0])
	}
	tok := string(in.Frames[n-1])
	in.Frames = in.Frames[:n-1]
	return s.accept(tok)
}

type jwtClient struct {
	*tokenClient
}

func (p *jwtPart) Client(_ context.Context, env ClientEnv) (ClientPart, error) {
	tc, err := newTokenClient(env, p.pol)
	if err != nil {
		return nil, fmt.Errorf("jwt: %w", err)
	}
	return &jwtClient{tokenClient: tc}, nil
}

// Wrap appends the token as the last frame.
func (c *jwtClient) Wrap(frames [][]byte) ([][]byte, error) {
	tok, err := c.token()
	if err != nil {
		return nil, fmt.Errorf("jwt: %w", err)
	}
	return append(frames, []byte(tok)), nil
}
