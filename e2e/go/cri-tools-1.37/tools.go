//go:build tools

// Package tools names the upstream programs this module builds; no code of ours beyond this list.
package tools

import (
	_ "sigs.k8s.io/cri-tools/cmd/crictl"
)
