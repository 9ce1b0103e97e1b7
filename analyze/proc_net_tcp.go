package analyze

// procNetTCPFormat is a placeholder: the parser is not written yet.
var procNetTCPFormat = &Format{Name: "proc-net-tcp", Description: "(not implemented yet)"}
