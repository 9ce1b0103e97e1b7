//go:build !linux

package model

// AdviseHugePages does nothing here: transparent huge pages are Linux's.
func AdviseHugePages[T any](s []T) {}

// HugeHeap does nothing here: transparent huge pages are Linux's.
func HugeHeap(n int) bool { return false }

// ReleasePages does nothing here: the pages stay until the table goes.
func ReleasePages[T any](s []T) {}
