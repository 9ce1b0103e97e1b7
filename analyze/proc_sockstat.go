package analyze

// procSockstatFormat is a placeholder: the parser is not written yet.
var procSockstatFormat = &Format{Name: "proc-sockstat", Description: "(not implemented yet)"}
