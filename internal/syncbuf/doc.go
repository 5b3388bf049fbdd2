// Package syncbuf holds a bytes buffer that one goroutine may write while
// others read it: the output of a process or a server under test.
package syncbuf
