package main

import "errors"

type analyzeCmd struct {
	Inputs []string `arg:"" name:"input" help:"Bundles, folders, listing files, or - for stdin."`
}

func (c *analyzeCmd) Run(e *env) error { return errors.New("not implemented yet") }

type rulesCmd struct{}

func (c *rulesCmd) Run(e *env) error { return errors.New("not implemented yet") }

type formatsCmd struct{}

func (c *formatsCmd) Run(e *env) error { return errors.New("not implemented yet") }
