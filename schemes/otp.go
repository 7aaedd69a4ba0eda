package schemes

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"

	"github.com/authbench/authbench/wfs"
)

// One-time-password credentials (issue 15 part 2): totp (RFC 6238) and hotp
// (RFC 4226), computed and verified with github.com/pquerna/otp.
//
// Secrets. The WFS makes a random 160-bit master secret at start and writes
// it, base32, to .service/otp_secret (0600); under the job policy it also
// makes one per job at submit, written to <job-dir>/otp_secret (0600) and
// deleted at job end. Neither is ever sent. A secret is fresh at every start
// (the server's replay memory and HOTP counters live in memory, so a secret
// that outlived them would let old codes back in).
//
// One prover per key. RFC 6238 section 5.2 has the verifier refuse a second
// use of a code, so a secret shared by every client of a workflow would let
// one request per step through, whoever sent it: a CLI command and a job
// message in the same 30 s would collide. So each client identity gets its
// own key, derived from the secret by OTPKey (HMAC-SHA256 over the workflow
// id, the client kind and the identity), and sends its kind and identity
// beside the code; the server derives the same key, verifies, and remembers
// the codes it accepted per key. Anyone who can read the secret can derive
// any identity's key (as anyone who can read a passphrase is anyone): the
// identity is a name for replay bookkeeping, not a proof.
//
// Concurrency within one identity. A TOTP code is one per step: a client
// that has used the current step waits for the next one (see otpClient);
// this latency is the scheme's real cost, up to one step per extra command
// of one identity, and shows in the acquire time of every exchange. An HOTP
// client takes the next counter instead, at no wait, but a counter that
// reaches the server after a higher one is refused (the server keeps only
// the last counter accepted, as RFC 4226 section 7.2 has it).
//
// Wire: [body, "KIND IDENTITY CODE"].

// OTP file names: the master secret in .service/ and a job's secret in its
// job directory (both 0600, base32).
const (
	OTPSecretFile    = "otp_secret"
	OTPJobSecretFile = "otp_secret"
)

// OTP defaults and bounds of the spec arguments.
const (
	OTPDefaultStep   = 30 * time.Second
	OTPDefaultSkew   = 1
	OTPDefaultWindow = 3
	OTPDefaultDigits = 6
	otpMaxStep       = time.Hour
	otpMaxSkew       = 10
	otpMaxWindow     = 100
	otpMinDigits     = 6
	otpMaxDigits     = 8
	// otpSecretBytes is the secret's size: 160 bits, RFC 4226's
	// recommendation (pyotp.random_base32's size too).
	otpSecretBytes = 20
	// otpMaxIdentity bounds the identity a client sends.
	otpMaxIdentity = 256
	// otpKeyLabel versions the key derivation.
	otpKeyLabel = "authbench-otp/v1"
)

// OTP protocols.
const (
	ProtoTOTP = "totp"
	ProtoHOTP = "hotp"
)

// Refusal labels of the otp server ("otp.refused.<label>" in Stats).
const (
	otpRefusedNoCode    = "no-code"
	otpRefusedMalformed = "malformed"
	otpRefusedDigits    = "digits"
	otpRefusedNoSecret  = "no-secret"
	otpRefusedWrong     = "wrong-code"
	otpRefusedReplayed  = "replayed"
	otpRefusedAuthz     = "authz"
)

// otpConf is a parsed totp or hotp spec.
type otpConf struct {
	proto  string
	policy string
	step   time.Duration // totp
	skew   uint          // totp, in steps
	window uint          // hotp look-ahead, in counters
	digits otp.Digits
}

// otpGrammar is what a totp or hotp spec's argument may be, for errors.
func otpGrammar(proto string) string {
	if proto == ProtoTOTP {
		return fmt.Sprintf("totp[:workflow|:job][=STEP[/SKEW[/DIGITS]]] with STEP a whole number of seconds from 1s to %s (default %s), SKEW 0-%d steps either side (default %d), DIGITS %d-%d (default %d), e.g. totp:workflow=30s/1",
			otpMaxStep, OTPDefaultStep, otpMaxSkew, OTPDefaultSkew, otpMinDigits, otpMaxDigits, OTPDefaultDigits)
	}
	return fmt.Sprintf("hotp[:workflow|:job][=WINDOW[/DIGITS]] with WINDOW the look-ahead, 1-%d counters (default %d), DIGITS %d-%d (default %d), e.g. hotp:workflow=3",
		otpMaxWindow, OTPDefaultWindow, otpMinDigits, otpMaxDigits, OTPDefaultDigits)
}

// parseOTP validates a totp or hotp spec's policy argument. Errors are one
// line naming the argument and what is valid.
func parseOTP(proto string, sp Spec) (otpConf, error) {
	c := otpConf{proto: proto, policy: sp.Policy, step: OTPDefaultStep, skew: OTPDefaultSkew, window: OTPDefaultWindow, digits: OTPDefaultDigits}
	bad := func(format string, a ...any) (otpConf, error) {
		return c, fmt.Errorf("%s:%s=%s: %s; valid: %s", proto, sp.Policy, sp.Arg, fmt.Sprintf(format, a...), otpGrammar(proto))
	}
	if sp.Policy != PolicyWorkflow && sp.Policy != PolicyJob {
		return c, fmt.Errorf("%s: unknown policy %q; valid: %s", proto, sp.Policy, otpGrammar(proto))
	}
	if sp.Arg == "" {
		return c, nil
	}
	parts := strings.Split(sp.Arg, "/")
	digitsAt := -1
	switch proto {
	case ProtoTOTP:
		if len(parts) > 3 {
			return bad("too many parts")
		}
		d, err := time.ParseDuration(parts[0])
		if err != nil {
			return bad("STEP %q is not a duration", parts[0])
		}
		if d < time.Second || d > otpMaxStep || d%time.Second != 0 {
			return bad("STEP %s is not a whole number of seconds from 1s to %s", d, otpMaxStep)
		}
		c.step = d
		if len(parts) > 1 {
			n, err := strconv.ParseUint(parts[1], 10, 32)
			if err != nil || n > otpMaxSkew {
				return bad("SKEW %q is not a whole number of steps from 0 to %d", parts[1], otpMaxSkew)
			}
			c.skew = uint(n)
		}
		if len(parts) > 2 {
			digitsAt = 2
		}
	case ProtoHOTP:
		if len(parts) > 2 {
			return bad("too many parts")
		}
		n, err := strconv.ParseUint(parts[0], 10, 32)
		if err != nil || n < 1 || n > otpMaxWindow {
			return bad("WINDOW %q is not a whole number of counters from 1 to %d", parts[0], otpMaxWindow)
		}
		c.window = uint(n)
		if len(parts) > 1 {
			digitsAt = 1
		}
	default:
		return c, fmt.Errorf("unknown one-time-password protocol %q", proto)
	}
	if digitsAt >= 0 {
		n, err := strconv.Atoi(parts[digitsAt])
		if err != nil || n < otpMinDigits || n > otpMaxDigits {
			return bad("DIGITS %q is not %d to %d", parts[digitsAt], otpMinDigits, otpMaxDigits)
		}
		c.digits = otp.Digits(n)
	}
	return c, nil
}

// otpPart is the totp or hotp credential.
type otpPart struct{ conf otpConf }

func totpInfo() PartInfo {
	return PartInfo{
		Name: ProtoTOTP, Kind: Credential,
		Doc:      "RFC 6238 time-based one-time code (pquerna/otp) from a secret in .service/otp_secret (per job: job=), key per client identity, as an extra frame; codes used once per step, refused outside the skew window",
		Policies: []string{PolicyWorkflow, PolicyJob},
		Examples: []string{"totp", "totp:job=30s/1"},
		New: func(sp Spec) (Part, error) {
			c, err := parseOTP(ProtoTOTP, sp)
			if err != nil {
				return nil, err
			}
			return &otpPart{conf: c}, nil
		},
	}
}

func hotpInfo() PartInfo {
	return PartInfo{
		Name: ProtoHOTP, Kind: Credential,
		Doc:      "RFC 4226 counter-based one-time code (pquerna/otp) from a secret in .service/otp_secret (per job: job=), key per client identity, as an extra frame; counter kept in the client's state dir, accepted within a look-ahead window",
		Policies: []string{PolicyWorkflow, PolicyJob},
		Examples: []string{"hotp", "hotp:job=3"},
		New: func(sp Spec) (Part, error) {
			c, err := parseOTP(ProtoHOTP, sp)
			if err != nil {
				return nil, err
			}
			return &otpPart{conf: c}, nil
		},
	}
}

// Claims of the otp credentials:
//
//   - authenticates: a code proves the client read a secret the WFS wrote
//     0600 (and needs-fs: it is read from the file system);
//   - replay-proof: the server refuses a code it has accepted (per key and
//     step, or per key and counter), so a captured request, or the code cut
//     from it, is refused once used; what a wire eavesdropper can still do
//     is race the genuine request with the code before it arrives (a
//     pre-play, not a replay: codes are bound to no request body);
//   - expires: a TOTP code is accepted only while the server's clock is
//     within SKEW steps of the code's step. An HOTP code does not expire:
//     an unused one stays good until a later counter is accepted, so hotp
//     does not claim it;
//   - audience: the secret is random per WFS (and a job's per job, made by
//     that WFS) and each key is derived over the workflow id too, so a code
//     made for one workflow verifies at another only by chance, with the
//     odds of a guess ((2*SKEW+1) or WINDOW in 10^DIGITS), the same odds that
//     bound authn itself;
//   - job-revoke under the job policy only: a job's secret is deleted, and
//     forgotten by the server, at job end, and job messages need a job's own
//     key; under the workflow policy jobs use the workflow secret;
//   - not confidential (codes and bodies travel in clear) and not
//     fine-grained (no capabilities; the job policy only ties a job's key to
//     its own job's messages).
func (p *otpPart) Claims() Claims {
	return Claims{
		Authenticates: true,
		ReplayProof:   true,
		Expires:       p.conf.proto == ProtoTOTP,
		Audience:      true,
		JobRevocation: p.conf.policy == PolicyJob,
		NeedsFS:       true,
	}
}

// OTPKey derives the base32 OTP key of one client identity from a base32
// secret: HMAC-SHA256(secret, "authbench-otp/v1" NUL workflow NUL kind NUL
// identity), first 20 bytes, base32 without padding. It is the secret that
// pyotp.TOTP or pyotp.HOTP takes.
func OTPKey(secret, workflow, kind, identity string) (string, error) {
	raw, err := decodeOTPSecret(secret)
	if err != nil {
		return "", err
	}
	m := hmac.New(sha256.New, raw)
	m.Write([]byte(otpKeyLabel + "\x00" + workflow + "\x00" + kind + "\x00" + identity))
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(m.Sum(nil)[:otpSecretBytes]), nil
}

func decodeOTPSecret(secret string) ([]byte, error) {
	s := strings.ToUpper(strings.TrimSpace(secret))
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return nil, fmt.Errorf("otp secret: not base32: %w", err)
	}
	if len(raw) < 16 {
		return nil, fmt.Errorf("otp secret: %d bytes, want at least 16 (128 bits, RFC 4226)", len(raw))
	}
	return raw, nil
}

// newOTPSecret makes a fresh base32 secret.
func newOTPSecret() (string, error) {
	raw := make([]byte, otpSecretBytes)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("otp secret: %w", err)
	}
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw), nil
}

// writeOTPSecret writes a secret to path 0600 as a new file: whatever was
// there (an earlier run's secret, a planted group-readable file, a symlink)
// is removed first, so the secret never lands in a file someone else made.
func writeOTPSecret(files *wfs.Files, path, secret string) error {
	if err := files.Remove(path); err != nil {
		return err
	}
	return files.CreateExclusive(path, []byte(secret+"\n"), 0o600)
}

// readOTPSecret reads a secret file.
func readOTPSecret(files *wfs.Files, path string) (string, error) {
	b, err := files.ReadFile(path)
	if err != nil {
		return "", err
	}
	s := strings.TrimSpace(string(b))
	if _, err := decodeOTPSecret(s); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

func (c otpConf) totpOpts() totp.ValidateOpts {
	return totp.ValidateOpts{Period: uint(c.step / time.Second), Skew: 0, Digits: c.digits, Algorithm: otp.AlgorithmSHA1}
}

func (c otpConf) hotpOpts() hotp.ValidateOpts {
	return hotp.ValidateOpts{Digits: c.digits, Algorithm: otp.AlgorithmSHA1}
}

// stepOf is the TOTP step (counter) of t.
func (c otpConf) stepOf(t time.Time) int64 {
	p := int64(c.step / time.Second)
	u := t.Unix()
	if u < 0 {
		return (u - p + 1) / p
	}
	return u / p
}

// stepStart is when step n begins.
func (c otpConf) stepStart(n int64) time.Time { return time.Unix(n*int64(c.step/time.Second), 0) }
