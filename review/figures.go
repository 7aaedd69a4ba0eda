package review

import (
	"github.com/authbench/authbench/figures"
	"github.com/authbench/authbench/vocab"
)

// Unit says how a figure is printed (package figures).
type Unit = figures.Unit

// The units of the figures questions show.
const (
	Duration = figures.Duration
	Count    = figures.Count
	Bytes    = figures.Bytes
)

// The ops questions read.
const (
	opCommand  = vocab.OpCLICommand
	opMessage  = vocab.OpJobMessage
	opPyProc   = vocab.OpJobProcess
	opPyInterp = vocab.OpJobInterp
)

// The per-transfer figures of the WLCG token flows (package flows).
const (
	opTransfer           = vocab.OpWLCGTransfer
	statRoundTrips       = "issuer.round_trips_per_transfer"
	statClientCreds      = "issuer.client_credentials_per_transfer"
	statExchanges        = "issuer.token_exchange_per_transfer"
	statRefreshes        = "issuer.refresh_per_transfer"
	statAccessStored     = "issuer.access_stored_per_transfer"
	statRefreshStored    = "issuer.refresh_stored_per_transfer"
	budgetTransferTokens = vocab.BudgetKindTransfer
)
