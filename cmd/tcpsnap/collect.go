package main

import "errors"

// collectCmd is `tcpsnap collect`.
type collectCmd struct{}

func (c *collectCmd) Run(e *env) error {
	return errors.New("collect is not implemented yet")
}
