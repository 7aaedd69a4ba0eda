package wfs

import (
	"strings"
	"testing"
	"time"
)

func TestCheckPublish(t *testing.T) {
	cylc, err := ParseModel("cylc")
	if err != nil {
		t.Fatal(err)
	}
	fast, err := ParseModel("fast")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cfg  ServerConfig
		want string // "" for none
	}{
		{"off under fast", ServerConfig{Model: fast}, ""},
		{"cylc, data-store changes only", ServerConfig{Model: cylc, Publish: true}, ""},
		{"cylc, one a main loop", ServerConfig{Model: cylc, Publish: true, PublishRate: 1}, ""},
		{"fast", ServerConfig{Model: fast, Publish: true}, "only the cylc model"},
		{"past one a main loop", ServerConfig{Model: cylc, Publish: true, PublishRate: 1.5}, "one delta a main-loop iteration"},
		{"past one a shorter main loop", ServerConfig{Model: cylc, Publish: true, PublishRate: 11, MessageInterval: 100 * time.Millisecond}, "want 0 to 10/s"},
		{"negative rate", ServerConfig{Model: cylc, Publish: true, PublishRate: -1}, "publish rate"},
		{"delta too small", ServerConfig{Model: cylc, Publish: true, DeltaSize: 4}, "delta size 4"},
		{"delta too large", ServerConfig{Model: cylc, Publish: true, DeltaSize: MaxDeltaSize + 1}, "delta size"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkPublish(tc.cfg)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("checkPublish: %v, want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("checkPublish: %v, want an error with %q", err, tc.want)
			}
		})
	}
}

func TestDeltaSentAt(t *testing.T) {
	p := &publisher{size: 64}
	now := time.Unix(1700000000, 123456789)
	got, err := DeltaSentAt(p.serialise(now))
	if err != nil || !got.Equal(now) {
		t.Fatalf("DeltaSentAt = %v, %v; want %v", got, err, now)
	}
	if _, err := DeltaSentAt([]byte{1, 2}); err == nil {
		t.Fatal("DeltaSentAt of 2 bytes: want an error")
	}
}
