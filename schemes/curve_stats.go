package schemes

// The curve server part's figures for results: its ZAP handler's counters,
// the allow-list and key generation.

// ZAPStats returns the ZAP handler's counters (zero before ConfigureServer
// and after CloseTransport).
func (s *curveServer) ZAPStats() ZAPStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.zap == nil {
		return ZAPStats{}
	}
	return s.zap.stats()
}

// Stats reports the allow-list and key-generation figures for results:
// the allow-list's peak and final size, ZAP requests answered, the mean
// allow-list lookup time, and keypairs generated with their mean cost; in
// reload mode also the directory reloads, the key files they read, their
// failures and their mean time.
func (s *curveServer) Stats() map[string]float64 {
	z := s.ZAPStats()
	out := map[string]float64{
		"zap.allowed_peak":   float64(s.allow.peakLen()),
		"zap.allowed_end":    float64(s.allow.len()),
		"zap.requests":       float64(z.Allowed + z.Denied + z.Malformed),
		"zap.denied":         float64(z.Denied),
		"keys.generated":     float64(s.keygens.Load()),
		"keys.gen_ns_mean":   0,
		"zap.lookup_ns_mean": 0,
	}
	if n := s.keygens.Load(); n > 0 {
		out["keys.gen_ns_mean"] = float64(s.keygenNanos.Load()) / float64(n)
	}
	if n := s.allow.lookups.Load(); n > 0 {
		out["zap.lookup_ns_mean"] = float64(s.allow.lookupNanos.Load()) / float64(n)
	}
	if s.reload {
		n := s.reloads.Load()
		out["zap.reloads"] = float64(n)
		out["zap.reload_files_read"] = float64(s.reloadFiles.Load())
		out["zap.reload_errors"] = float64(s.reloadErrors.Load())
		out["zap.reload_ns_mean"] = 0
		if n > 0 {
			out["zap.reload_ns_mean"] = float64(s.reloadNanos.Load()) / float64(n)
		}
	}
	return out
}
