//go:build unix && !linux

package input

const mapPopulate = 0
