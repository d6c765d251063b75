// Command werkstatt-backup keeps a car workshop's order database safe: it
// replicates every row of auftraege into its order's folder as data.csv +
// meta.json, verifies those backups and restores the database from them.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	stopProfile := startMemProfile()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stopProfile()
	stop()
	os.Exit(code)
}
