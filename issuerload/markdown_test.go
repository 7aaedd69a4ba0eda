package issuerload

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestWriteMarkdown: the rendering states the inputs, has a row per flow
// and per leg, and a reading.
func TestWriteMarkdown(t *testing.T) {
	in := base()
	in.RefreshPolicy, in.RefreshLifetime = RefreshAtStart, 30*minute
	m := compute(t, in)
	var b strings.Builder
	if err := WriteMarkdown(&b, m); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"Inputs: 12 transfers/h; queue waits empirical, 4 waits, mean 16m30s; access tokens 20m, refresh tokens 30m, margin 5m (a token is used or reused up to 15m after its issue)",
		"one storage token for both SEs", "refresh policy at-start", "service storage tokens fetched at-start",
		"| client_credentials/h |", "| service | 15.0", "| user    | 0 ", "| groups  |",
		"| T_xfer+R_xfer, aud se1 se2 (exchange 2)       | FTS   | token_exchange", "per transfer",
		"Reading: ", "25.00 % of user transfers wait past the refresh lifetime",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q:\n%s", want, out)
		}
	}
	if rows := strings.Count(out, "\n| "); rows != 1+3+1+len(m.Flows[0].Legs)+len(m.Flows[1].Legs)+len(m.Flows[2].Legs) {
		t.Errorf("%d table lines:\n%s", rows, out)
	}

	in = DefaultInputs(1e4, Waits{ExponentialMean: 2 * time.Hour})
	in.BothSEs, in.RefreshLifetime = false, RefreshLifetimeLater
	b.Reset()
	if err := WriteMarkdown(&b, compute(t, in)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Inputs: 10000 transfers/h", "exponential, mean 2h", "refresh tokens 30d", "one storage token per SE", "T_xfer, one per SE (at start)", "would halve"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, b.String())
		}
	}
}

// failWriter fails every write.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// TestWriteMarkdownError: a write error is returned.
func TestWriteMarkdownError(t *testing.T) {
	err := WriteMarkdown(failWriter{}, compute(t, base()))
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("error %v", err)
	}
}

// TestFormat: the figures' and durations' formats.
func TestFormat(t *testing.T) {
	for x, want := range map[float64]string{0: "0", 2882.25: "2882", 12.34: "12.3", 3.987: "3.99", 0.004: "0.004", 1e-300: "1e-300"} {
		if got := fmtNum(x); got != want {
			t.Errorf("fmtNum(%v) = %q, want %q", x, got, want)
		}
	}
	for d, want := range map[time.Duration]string{20 * minute: "20m", hr: "1h", 240 * hr: "10d", 16*minute + 30*time.Second: "16m30s", 90 * minute: "1h30m", 0: "0s"} {
		if got := fmtDuration(d); got != want {
			t.Errorf("fmtDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
