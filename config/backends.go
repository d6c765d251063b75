package config

import (
	"fmt"
	"strings"
	"sync"

	"werkstatt-backup/storage"
)

// defaultWorkers is the workers default of this table; a backend whose
// archives declare another (Description.Workers) is named beside it.
const defaultWorkers = 8

var (
	backendsMu sync.RWMutex
	registry   *storage.Registry // nil until UseBackends
)

// UseBackends teaches config the archive backends of reg: archiv values
// are parsed by them, and each option a backend declares becomes a key
// (in the file, as --flag and as ARCHIV_… variable, in `config show` and
// in --help), secrets from the environment only. The help of archiv lists
// every backend's URL form. Call it once at start-up, before
// RegisterFlags and Load.
func UseBackends(reg *storage.Registry) {
	descs := reg.Descriptions()
	ks := make([]key, 0, len(baseKeys)+8)
	for _, k := range baseKeys {
		switch k.name {
		case "archiv":
			k.help = archivHelp(descs)
		case "workers":
			k.help, k.defNote = workersHelp(descs)
		}
		ks = append(ks, k)
	}
	for _, d := range descs {
		for _, o := range d.Options {
			ks = append(ks, optionKey(d.Scheme, o))
		}
	}
	backendsMu.Lock()
	defer backendsMu.Unlock()
	keys, registry = ks, reg
}

// parseLocation parses an archiv value with the backends of UseBackends.
func parseLocation(s string) (storage.Location, error) {
	backendsMu.RLock()
	reg := registry
	backendsMu.RUnlock()
	if reg == nil {
		panic("config: UseBackends wurde nicht aufgerufen")
	}
	return reg.Parse(s)
}

// optionKey is the key of a backend's option.
func optionKey(scheme string, o storage.Option) key {
	k := key{name: o.Key, def: o.Default, secret: o.Secret, fileOK: !o.Secret, help: o.Help,
		minDur: o.MinDuration, backend: scheme, env: o.Env}
	if !o.Secret { // a secret on the command line is visible in ps
		k.flag = strings.ReplaceAll(o.Key, "_", "-")
	}
	switch o.Kind {
	case storage.OptPath:
		k.kind = kindPath
	case storage.OptDuration:
		k.kind = kindDuration
	case storage.OptInt:
		k.kind = kindNumber
	case storage.OptBool:
		k.kind = kindBool
	default:
		k.kind = kindString
	}
	return k
}

// archivHelp lists the URL form of every backend.
func archivHelp(descs []storage.Description) string {
	forms := make([]string, len(descs))
	for i, d := range descs {
		forms[i] = d.Syntax
	}
	if len(forms) < 2 {
		return "Archiv: " + strings.Join(forms, "")
	}
	return "Archiv: " + strings.Join(forms[:len(forms)-1], ", ") + " oder " + forms[len(forms)-1]
}

// workersHelp names the backends whose archives suggest another number
// of workers than the default ("über SMB 128").
func workersHelp(descs []storage.Description) (help, note string) {
	var others []string
	for _, d := range descs {
		if d.Workers > 0 && d.Workers != defaultWorkers {
			others = append(others, fmt.Sprintf("über %s %d", strings.ToUpper(d.Scheme), d.Workers))
		}
	}
	note = strings.Join(others, ", ")
	help = fmt.Sprintf("parallele Dateioperationen (%d-%d; ohne Angabe %d", minWorkers, maxWorkers, defaultWorkers)
	if note != "" {
		help += ", " + note
	}
	return help + ")", note
}

// secretFileKey is the key a secret can be given through instead (its
// name with "_file"), "" if its backend declares none.
func secretFileKey(name string) string {
	if k, ok := lookupKey(name + "_file"); ok && k.fileOK {
		return k.name
	}
	return ""
}
