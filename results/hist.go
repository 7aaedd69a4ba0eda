package results

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram range: 1 µs to 60 s in nanoseconds, 3 significant digits.
const (
	histMin    = 1_000
	histMax    = 60_000_000_000
	histDigits = 3
)

// Histogram is an HDR latency histogram in nanoseconds. It marshals to JSON
// as the base64 of the HdrHistogram V2 compressed encoding, so results from
// several nodes merge exactly.
type Histogram struct {
	h *hdr.Histogram
}

// NewHistogram returns an empty histogram covering 1 µs to 60 s.
func NewHistogram() *Histogram {
	return &Histogram{h: hdr.New(histMin, histMax, histDigits)}
}

// NewCoarseHistogram returns a histogram of 2 significant digits (1%
// resolution) over the same range, an eighth of the memory: for per-interval
// series.
func NewCoarseHistogram() *Histogram {
	return &Histogram{h: hdr.New(histMin, histMax, 2)}
}

// Record adds one latency; values outside the range are clamped into it.
func (h *Histogram) Record(d time.Duration) {
	v := int64(d)
	if v < histMin {
		v = histMin
	}
	if v > histMax {
		v = histMax
	}
	_ = h.h.RecordValue(v)
}

// Merge adds every value of o into h.
func (h *Histogram) Merge(o *Histogram) {
	if o != nil && o.h != nil {
		h.h.Merge(o.h)
	}
}

// Count is the number of values recorded.
func (h *Histogram) Count() int64 { return h.h.TotalCount() }

// Percentile returns the value at percentile p (0-100).
func (h *Histogram) Percentile(p float64) time.Duration {
	return time.Duration(h.h.ValueAtQuantile(p))
}

// Max is the largest value recorded.
func (h *Histogram) Max() time.Duration { return time.Duration(h.h.Max()) }

// Mean is the mean of the values recorded.
func (h *Histogram) Mean() time.Duration { return time.Duration(h.h.Mean()) }

// Clone returns a copy.
func (h *Histogram) Clone() *Histogram { return &Histogram{h: h.h.Clone()} }

// Distribution returns (percentile, value) points for a percentile-spectrum
// plot, as HdrHistogram's percentile distribution output does.
func (h *Histogram) Distribution() []hdr.Bracket { return h.h.CumulativeDistribution() }

// MarshalJSON encodes the histogram as base64 V2 compressed.
func (h *Histogram) MarshalJSON() ([]byte, error) {
	b, err := h.h.Encode(hdr.V2CompressedEncodingCookieBase)
	if err != nil {
		return nil, fmt.Errorf("encode histogram: %w", err)
	}
	return json.Marshal(base64.StdEncoding.EncodeToString(b))
}

// UnmarshalJSON decodes a base64 V2 compressed histogram.
func (h *Histogram) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("histogram: %w", err)
	}
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return fmt.Errorf("histogram: %w", err)
	}
	d, err := hdr.Decode(raw)
	if err != nil {
		return fmt.Errorf("histogram: %w", err)
	}
	h.h = d
	return nil
}
