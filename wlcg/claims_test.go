package wlcg

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"testing"
)

func TestClaimsUnmarshal(t *testing.T) {
	tests := []struct {
		name string
		json string
		want Claims
		errs []error // all must match; nil means success
	}{
		{name: "aud string", json: `{"aud":"https://rp.example.org"}`,
			want: Claims{Audience: Audience{"https://rp.example.org"}}},
		{name: "aud array", json: `{"aud":["https://a.example.org","https://b.example.org"]}`,
			want: Claims{Audience: Audience{"https://a.example.org", "https://b.example.org"}}},
		{name: "aud empty array", json: `{"aud":[]}`, want: Claims{Audience: Audience{}}},
		{name: "aud null is absent", json: `{"aud":null}`, want: Claims{}},
		{name: "aud missing", json: `{}`, want: Claims{}},
		{name: "aud number", json: `{"aud":42}`, errs: []error{ErrAudience, ErrMalformed}},
		{name: "aud array with number", json: `{"aud":["a",1]}`, errs: []error{ErrAudience, ErrMalformed}},
		{name: "aud object", json: `{"aud":{"a":"b"}}`, errs: []error{ErrAudience, ErrMalformed}},
		{name: "all claims", json: `{"iss":"https://iss.example.org","sub":"abc","aud":"x",
			"exp":200,"nbf":100,"iat":100,"jti":"j1","wlcg.ver":"1.0",
			"scope":"storage.read:/ compute.read","wlcg.groups":["/cms","/cms/uscms"]}`,
			want: Claims{Issuer: "https://iss.example.org", Subject: "abc", Audience: Audience{"x"},
				Expiry: nd(200), NotBefore: nd(100), IssuedAt: nd(100), ID: "j1", Version: "1.0",
				Scope: "storage.read:/ compute.read", Groups: []string{"/cms", "/cms/uscms"}}},
		{name: "unknown claims ignored", json: `{"iss":"i","eduperson_assurance":["x"],"acr":"y","nested":{"a":[1]}}`,
			want: Claims{Issuer: "i"}},
		{name: "claim names are case-sensitive", json: `{"ISS":"i","Aud":"a","WLCG.VER":"1.0"}`, want: Claims{}},
		{name: "fractional NumericDate rounds down", json: `{"exp":1700000000.9,"nbf":-1.5}`,
			want: Claims{Expiry: nd(1700000000), NotBefore: nd(-2)}},
		{name: "exponent NumericDate", json: `{"exp":1.7e9}`, want: Claims{Expiry: nd(1700000000)}},
		{name: "huge NumericDate saturates", json: `{"exp":1e400,"nbf":-1e400}`,
			want: Claims{Expiry: nd(math.MaxInt64), NotBefore: nd(math.MinInt64)}},
		{name: "tiny NumericDate", json: `{"iat":1e-400}`, want: Claims{IssuedAt: nd(0)}},
		{name: "exp as string", json: `{"exp":"1700000000"}`, errs: []error{ErrMalformed}},
		{name: "exp as bool", json: `{"exp":true}`, errs: []error{ErrMalformed}},
		{name: "iss as number", json: `{"iss":1}`, errs: []error{ErrIssuer, ErrMalformed}},
		{name: "wlcg.ver as number", json: `{"wlcg.ver":1.0}`, errs: []error{ErrVersion, ErrMalformed}},
		{name: "scope as array", json: `{"scope":["storage.read:/"]}`, errs: []error{ErrScope, ErrMalformed}},
		{name: "wlcg.groups as string", json: `{"wlcg.groups":"/cms"}`, errs: []error{ErrGroups, ErrMalformed}},
		{name: "sub as array", json: `{"sub":["a"]}`, errs: []error{ErrMalformed}},
		{name: "not an object", json: `["iss"]`, errs: []error{ErrMalformed}},
		{name: "null document", json: `null`, errs: []error{ErrMalformed}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got Claims
			err := json.Unmarshal([]byte(tt.json), &got)
			if tt.errs == nil {
				if err != nil {
					t.Fatalf("Unmarshal: %v", err)
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Fatalf("got %+v, want %+v", got, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("Unmarshal succeeded with %+v, want error", got)
			}
			for _, e := range tt.errs {
				if !errors.Is(err, e) {
					t.Errorf("error %q does not wrap %q", err, e)
				}
			}
			if Classify(err) != Classify(tt.errs[0]) {
				t.Errorf("Classify(%q) = %q, want %q", err, Classify(err), Classify(tt.errs[0]))
			}
		})
	}
}

func TestClaimsRoundTrip(t *testing.T) {
	for _, c := range []Claims{
		{},
		{Issuer: "https://i", Subject: "s", Audience: Audience{"https://rp"}, Expiry: nd(2), NotBefore: nd(0),
			IssuedAt: nd(1), ID: "j", Version: "1.0", Scope: "storage.read:/a", Groups: []string{"/vo"}},
		{Audience: Audience{"a", "b"}},
	} {
		data, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		var back Claims
		if err := json.Unmarshal(data, &back); err != nil {
			t.Fatalf("Unmarshal(%s): %v", data, err)
		}
		if !reflect.DeepEqual(back, c) {
			t.Errorf("round trip of %+v via %s gave %+v", c, data, back)
		}
	}
}

func TestAudienceMarshal(t *testing.T) {
	tests := []struct {
		aud  Audience
		want string
	}{
		{Audience{"a"}, `"a"`},
		{Audience{"a", "b"}, `["a","b"]`},
		{Audience{}, `[]`},
		{nil, `[]`},
	}
	for _, tt := range tests {
		got, err := json.Marshal(tt.aud)
		if err != nil || string(got) != tt.want {
			t.Errorf("Marshal(%#v) = %s, %v; want %s", tt.aud, got, err, tt.want)
		}
	}
	// An absent audience is omitted from the claims.
	got, _ := json.Marshal(Claims{Issuer: "i"})
	if string(got) != `{"iss":"i"}` {
		t.Errorf("Marshal(Claims without aud) = %s", got)
	}
}

func TestNumericDateTimeClamps(t *testing.T) {
	if got := NumericDate(math.MaxInt64).Time(); got.Unix() != maxUnix {
		t.Errorf("MaxInt64 -> %v", got)
	}
	if got := NumericDate(math.MinInt64).Time(); got.Unix() != -maxUnix {
		t.Errorf("MinInt64 -> %v", got)
	}
	if got := NumericDate(1700000000).Time(); got.Unix() != 1700000000 {
		t.Errorf("1700000000 -> %v", got)
	}
}

func nd(s int64) *NumericDate {
	d := NumericDate(s)
	return &d
}
