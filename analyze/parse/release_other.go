//go:build !linux

package parse

func releasePages(memRange) {}
