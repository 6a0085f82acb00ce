//go:build tools

// Package tools pins the witness programs the interoperability tests build and run:
// litewitness (a real C2SP tlog-witness) and witnessctl (which adds our log to it).
package tools

import (
	_ "filippo.io/torchwood/cmd/litewitness"
	_ "filippo.io/torchwood/cmd/witnessctl"
)
