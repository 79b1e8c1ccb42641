// etcd 3.5 built from Go modules: its server's own main (etcdmain), which hashes user passwords before its WAL.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
