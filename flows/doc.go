// Package flows runs the WLCG third-party-transfer token flows for real:
// the three flows of A. Ceccanti's notes "Token based authn/z for WLCG
// RUCIO/FTS/SEs" (seed 003), with the names and semantics that package
// issuerload models them under ([issuerload.FlowService],
// [issuerload.FlowUser], [issuerload.FlowGroups]), so that the figures
// measured here and the model's can be set side by side.
//
// [Run] starts, in this process, a token issuer (package issuer, on
// loopback) with clients for Rucio, FTS and the users, and two storage
// elements (SE-A, the source, and SE-B, the destination): HTTP servers on
// loopback that verify every token they are shown against the issuer's JWKS
// (go-jose v4), apply the WLCG profile's claim rules with their own
// audience (wlcg.Validate) and authorise the operation with wlcg.Allows:
// SE-A a read of the file, SE-B its creation. It then drives transfers at
// a rate (open loop: each transfer is timed from its intended submission,
// wrk2-style, so a slow issuer shows as latency and not as a lower rate)
// for a count or a duration. A transfer is submitted (Rucio's tokens),
// queued for a wait drawn from the queue-wait distribution (FTS's tokens
// kept fresh meanwhile), then started: FTS asks SE-B for an HTTP-TPC pull
// copy (COPY with a Source header), presenting the destination token in
// Authorization and the source token in TransferHeaderAuthorization, as
// the notes say ("included in the Authorization and
// TransferHeaderAuthorization headers"); SE-B checks its token, then
// fetches the file from SE-A with the source token, which SE-A checks.
//
// # The flows
//
// Service ([N1]-[N3] of package issuerload): at submission Rucio holds a
// client-credentials token for FTS (aud fts, "fts:submit-transfer"),
// reused while it has at least the margin left; when the transfer starts
// FTS gets its storage token(s) by client credentials: one with both SEs'
// audiences and both scopes (storage.read:PATH storage.create:PATH) with
// BothSEs, else one per SE (aud SE-A storage.read:PATH; aud SE-B
// storage.create:PATH). No refresh tokens.
//
// User ([N4]-[N6]): the user's token (client credentials of the user's
// client, standing for the user's login, aud rucio; kept for the user's
// session, that is reused while it has the margin left); Rucio's exchange 1
// of it for a token to FTS (aud fts; reused per user, unless NoReuse);
// FTS's exchange 2 of that, per transfer (per SE without BothSEs), with
// offline_access and the storage scopes of the file, giving an access and a
// refresh token. The transfer then waits its queue wait, and FTS keeps the
// access token fresh as the model's keep-fresh policy says: it refreshes
// whenever the token has less than the margin left (each refresh rotates
// the refresh token). At the start the access token is presented.
//
// Groups ([N7]): as the user flow up to exchange 1 (scope wlcg.groups);
// then FTS keeps one token per key, (group, SE pair) with BothSEs or
// (group, SE) without, obtained by exchange 2 with "offline_access
// wlcg.groups:/GROUP" and reused by every transfer of the group; at a
// transfer's start a key's access token with less than the margin left is
// refreshed by its refresh token (or, if that has expired, exchanged
// afresh). The SEs map a group to the area of the same path (/cms/g0 may
// read and create under /cms/g0): a token with no capability scope is
// authorised by its groups (profile §2.2.3). With NoReuse the groups flow
// is the user flow with group scopes, a chain per transfer.
//
// # Figures
//
// The issuer's own counters (issuer.Stats) are read before the first
// transfer and after the last; their differences divided by the transfers
// run are the per-transfer figures in Result.SchemeStats:
// issuer.round_trips_per_transfer (token requests of every grant),
// issuer.client_credentials_per_transfer, issuer.token_exchange_per_transfer,
// issuer.refresh_per_transfer, issuer.access_stored_per_transfer,
// issuer.refresh_stored_per_transfer and issuer.bytes_per_transfer (request
// and response bodies), with the totals beside them (issuer.round_trips,
// ...). The driver also counts its requests by leg, as the model names them
// (leg.*_per_transfer: login, t_fts, storage_cc, exchange2, refresh), and
// puts the model's figures for the same inputs beside the measured ones
// (model.*_per_transfer; the model leaves out the user's login, which
// issuer.round_trips_per_transfer_without_login also does). A JWT's exp
// is in whole seconds, so a token lives up to a second less than its
// lifetime: the model is computed with the mean lifetime the tokens really
// had (flow.effective_access_lifetime_s), which matters only for the
// scaled lifetimes of a short run.
//
// Ops: wlcg.submit (from the intended submission to the transfer queued:
// Rucio's and FTS's token requests at submission), wlcg.transfer (from the
// intended start, submission plus queue wait, to both SEs accepting: the
// tokens fetched or refreshed at the start and the TPC copy), wlcg.token
// (every issuer round trip) and one op per grant (wlcg.client_credentials,
// wlcg.token_exchange, wlcg.refresh_token), wlcg.tpc (the COPY to SE-B,
// which includes SE-B's read from SE-A). A refusal by an SE is an error of
// wlcg.transfer, by reason ("se_b.audience", "se_a.insufficient_scope").
//
// # Faults
//
// Config.Fault kills the issuer mid-run (Fault.IssuerDownAt), or hangs it
// (Fault.IssuerHang: its port listening, never answered). The run goes on
// to its end: transfers that need the issuer from then on fail, counted
// under wlcg.transfer as issuer.unreachable (refused or cut) or
// issuer.timeout (no answer within Config.RequestTimeout), and the result
// records when it went down (fault.issuer_down_at_s). Which transfers need
// it depends on the flow: every one in the service flow (its storage
// tokens) and the user flow (exchange 2), the groups flow's only when a
// key's token needs renewing.
package flows
