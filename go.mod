module github.com/tcpsnap/tcpsnap

go 1.26
