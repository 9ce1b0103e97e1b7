package analyze

// procSNMPFormat is a placeholder: the parser is not written yet.
var procSNMPFormat = &Format{Name: "proc-snmp", Description: "(not implemented yet)"}
