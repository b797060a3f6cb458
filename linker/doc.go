// Package linker owns Docker's legacy container links: the variables a
// recipient gets for each linked source, and the /etc/hosts files of
// containers, rendered and later rewritten in place when a source moves.
package linker
