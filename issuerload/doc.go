// Package issuerload is a load model of the token issuer (an INDIGO IAM
// instance, stood in for by package issuer) under the Rucio -> FTS ->
// storage token flows: from a transfer rate, the distribution of queue
// waits and the token lifetimes it computes the issuer's requests per hour
// by grant, the tokens it stores per hour and the rows it holds at steady
// state, for three flows. It answers the WLCG Authorisation WG's question
// of "at which points an access token would be required ... in order to
// estimate workload" [W3] for third-party transfers. It is pure
// computation: [Compute] maps [Inputs] to a JSON-serialisable [Model], and
// [WriteMarkdown] renders it.
//
// # Sources
//
// [N] are A. Ceccanti's notes "Token based authn/z for WLCG RUCIO/FTS/SEs"
// (seed 003); [W] the WG's "WLCG Token based Authentication &
// Authorisation" document (seed 002); [I] package issuer's documentation.
//
//	[N1] service identity: "T_fts is requested with the client_credentials flow"
//	[N2] "When the transfer is about to start, FTS requests a token (T_xfer)
//	     (again with client_credentials)", audience="se1 se2"
//	[N3] "No refresh tokens are needed. If FTS for some reason needs a fresh
//	     token, it simply goes back to IAM to fetch one."
//	[N4] user identity: Rucio "exchanges T_rucio with a token (T_fts)
//	     suitable to submit the transfer to FTS"; "no refresh token is asked
//	     at this stage"
//	[N5] "FTS queues the transfer and exchanges T_fts with a new access token
//	     (T_xfer) and refresh token (R_xfer)", scope "openid offline_access
//	     storage.read:... storage.create:..."
//	[N6] "FTS stores R_xfer and uses it to refresh T_xfer if needed when the
//	     transfer is starting"
//	[N7] group-based: the same two exchanges with scope
//	     "openid offline_access wlcg.groups"
//	[N8] "We could reduce these exchanges if we are fine with having tokens
//	     e.g., scoped to both RUCIO and FTS, so that exchanges are needed
//	     only when offline_access needs to be requested"
//	[N9] "a single token, scoped at two SEs, is requested from IAM for each
//	     transfer" ... "cutting in half the number of tokens in the IAM db"
//	[W1] "short lived access tokens (e.g. 20 minutes) and a longer refresh
//	     token"
//	[W2] "The process of refreshing a token requires a round trip to the
//	     token issuer."
//	[W3] "at which points an access token would be required, this is in
//	     order to estimate workload"
//	[I1] "IAM keeps both access and refresh tokens in its database by
//	     default"; refresh_token grants rotate ("the old refresh token stops
//	     working")
//	[I2] profile lifetimes: "version 1.0 recommends 20 minutes for access
//	     tokens and 10 days for refresh tokens; later versions 1 hour and
//	     30 days"
//
// # Inputs and notation
//
// λ is the transfer rate (TransfersPerHour); W a transfer's queue wait,
// from the time FTS queues it to the time it starts, drawn from Waits (an
// empirical list, a (wait, share) histogram, or an exponential with a
// given mean); L and R the access and refresh token lifetimes ([I2]
// defaults: 20 min and 10 d, the "short lived" access token of [W1]); M
// the margin: a token is used or reused only while it has at least M of
// its lifetime left, so it is good for V = L − M after its issue. a is
// the tokens a transfer needs for its two storage elements: 1 when one
// token carries both audiences [N2][N9] (BothSEs), 2 with one per SE.
// S(x) = P(W > x).
//
// Every grant modelled issues one access token; token exchange with
// offline_access and refresh also issue (store) one refresh token. A token
// stays stored until it expires, a refresh token until it is rotated
// ([I1]) or expires; nothing is revoked.
//
// # Equations
//
// Reuse. A token that is not tied to one transfer (Rucio's T_fts, a group
// token) is fetched on demand and reused by every demand in the next V;
// the first demand after that fetches a new one. Under Poisson demand at
// rate d the cycle lasts V + 1/d on average (memorylessness), so
//
//	reuse(d) = d / (1 + d·V)   fetches per hour per token kept
//
// which is at most d (no reuse, NoReuse) and at most 1/V.
//
// Refreshes before start ([N5][N6], user flow). FTS gets T_xfer and R_xfer
// at queue time and the transfer needs a token with at least M left at its
// start, W later. Two policies:
//
//	keep-fresh (default; issue 14's "refreshing access tokens while the
//	transfer waits"): refresh whenever the token gets down to M, i.e. at
//	V, 2V, ...: n(W) = 0 for W <= V, else ceil(W/V) − 1. With M = 0 this is
//	ceil(W/L) − 1: a wait of exactly one lifetime needs none, a wait just
//	over it one. E[n] = Σ_{k>=1} S(kV) (q/(1 − q), q = e^(−V/mean), for
//	exponential waits).
//	at-start ([N6] "if needed when the transfer is starting"): n(W) = 1 if
//	V < W <= R, else 0; a transfer with W > R finds its refresh token
//	expired (ExpiredShare = S(R)): its exchange 2 is counted, nothing
//	after it.
//
// Each refresh is one issuer round trip [W2]; it stores a new access token
// and, rotating, a new refresh token.
//
// Service flow ([N1]-[N3]):
//
//	client_credentials = reuse(λ)            Rucio's T_fts (aud fts)
//	                   + a·λ                  T_xfer, one per transfer
//	                   + a·λ·S(V)             only with ServiceTokens
//	                                          "at-submit": fetched again at
//	                                          the start when W > V [N3]
//	token_exchange = refresh = 0, no refresh tokens stored.
//
// By default T_xfer is fetched when the transfer is about to start [N2],
// so the wait does not matter; "at-submit" models issue 14's reading,
// Rucio fetching the storage tokens at submission and handing them to FTS.
//
// User flow ([N4]-[N6]), with U users sharing λ evenly:
//
//	token_exchange = U·reuse(λ/U)             exchange 1, Rucio (none with
//	                                          JointRucioFTS [N8])
//	               + a·λ                      exchange 2, FTS, offline_access
//	refresh        = a·λ·E[n(W)]
//
// Groups flow ([N7]): exchange 1 as in the user flow; FTS keeps one access
// and one refresh token per key (group, audience), reused across the
// group's transfers. K = G·P keys of demand d = λ/(G·P) with BothSEs (P
// SE pairs), K = G·N keys of demand d = 2λ/(G·N) with one token per SE
// (N SEs); demand is spread evenly. Each key renews its access token at
// rate r = reuse(d); the renewal is a refresh, unless the refresh token
// (rotated at every renewal, so renewed then for R) has expired, which
// happens when no demand came in (t0+V, t0+R], probability
// e = e^(−d·(R − V)); then FTS does exchange 2 again:
//
//	token_exchange = exchange 1 + K·r·e
//	refresh        = K·r·(1 − e)
//
// With NoReuse the groups flow is the user flow (a token per transfer).
//
// Stored tokens and rows (Little's law: rows live = issue rate × mean
// time stored, [I1]):
//
//	access rows  = (access tokens issued per hour) × L, every leg
//	refresh rows, user flow, per transfer (× a·λ):
//	  keep-fresh: E[n]·V + R      (rotated ones lived V, the last one R)
//	  at-start:   R + E[W·1{V < W <= R}]
//	refresh rows, groups flow, per key: r·(V + (1 − e)/d), one live refresh
//	  token per key when e ≈ 0
//
// Per transfer: round trips = total requests / λ; likewise the access and
// refresh tokens stored and the refreshes. The service flow's storage
// tokens, stored and live, are exactly halved by BothSEs [N9], and so are
// the user flow's exchange-2 and refresh legs. In the groups flow BothSEs
// halves them only at low demand (d·V ≪ 1, every key renewed at its
// demand); at high demand every key is renewed about once per V and the
// ratio is the keys', P/N: one token for both SEs costs tokens when there
// are more active SE pairs than SEs.
//
// # Not modelled
//
// The user's own T_rucio (obtained per session, not per transfer);
// transfers' durations (a token is checked at the start of the third-party
// copy, which M covers); retries; the delay before an expired token is
// swept (add it to L and R for the rows); revocation of a transfer's last
// refresh token when it ends, which would turn the user flow's R term into
// the transfer's own duration.
package issuerload
