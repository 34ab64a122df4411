//go:build tools

// Package tools names the upstream programs this module builds; no code of ours beyond this list.
package tools

import (
	_ "github.com/coredns/coredns"
)
