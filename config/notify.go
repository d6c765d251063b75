package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"

	"werkstatt-backup/notify"
)

// Notify is the list of notification targets (key notify): webhooks and
// mail addresses, each with when it wants to hear ("on").
type Notify []notify.Target

// String describes the targets for `config show`, webhooks by scheme and
// host only (their path is often a token): "Webhook https://hc.example/…
// (fehler); Mail admin@werkstatt.de (warnung)".
func (n Notify) String() string {
	parts := make([]string, len(n))
	for i, t := range n {
		parts[i] = fmt.Sprintf("%s (%s)", t, t.On)
	}
	return strings.Join(parts, "; ")
}

// HasMail reports whether a target is a mail address, and which is the first.
func (n Notify) HasMail() (int, bool) {
	i := slices.IndexFunc(n, func(t notify.Target) bool { return t.Mail != "" })
	return i, i >= 0
}

// subError is a problem inside a structured value: sub is the path below
// its key ("[1].on"), which the caller appends to the key it names.
type subError struct {
	sub    string
	reason string
}

func (e *subError) Error() string { return e.sub + ": " + e.reason }

// withSub names the part of a key a *subError is about.
func withSub(key string, err error) (string, string) {
	var se *subError
	if errors.As(err, &se) {
		return key + se.sub, se.reason
	}
	return key, err.Error()
}

// parseNotify checks the notify list: from the file a JSON list of
// objects, from ARCHIV_NOTIFY the same as text.
func parseNotify(v any) (Notify, error) {
	switch x := v.(type) {
	case Notify:
		return x, nil
	case string:
		if strings.TrimSpace(x) == "" {
			return nil, nil
		}
		var list []any
		dec := json.NewDecoder(strings.NewReader(x))
		dec.UseNumber()
		if err := dec.Decode(&list); err != nil {
			return nil, errors.New(`kein gültiges JSON: eine Liste wie [{"webhook": "https://…", "on": "fehler"}]`)
		}
		v = list
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf(`muss eine Liste von Zielen sein ([{"webhook": "https://…", "on": "fehler"}, {"mail": "admin@…", "on": "warnung"}]), nicht %s`, describe(v))
	}
	out := make(Notify, 0, len(list))
	for i, e := range list {
		t, err := parseTarget(e)
		if err != nil {
			var se *subError
			if errors.As(err, &se) {
				return nil, &subError{fmt.Sprintf("[%d]%s", i, se.sub), se.reason}
			}
			return nil, &subError{fmt.Sprintf("[%d]", i), err.Error()}
		}
		out = append(out, t)
	}
	return out, nil
}

// parseTarget checks one target: exactly one of webhook and mail, and on.
func parseTarget(v any) (notify.Target, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return notify.Target{}, fmt.Errorf("muss ein Objekt sein, nicht %s", describe(v))
	}
	var t notify.Target
	names := make([]string, 0, len(obj))
	for k := range obj {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		s, ok := obj[k].(string)
		if !ok {
			return t, &subError{"." + k, "muss ein Text sein, nicht " + describe(obj[k])}
		}
		switch strings.ToLower(k) {
		case "webhook":
			if err := notify.CheckWebhook(s); err != nil {
				return t, &subError{"." + k, err.Error()}
			}
			t.Webhook = s
		case "mail":
			list, err := mail.ParseAddressList(s)
			if err != nil || len(list) == 0 {
				return t, &subError{"." + k, fmt.Sprintf("keine gültige Mail-Adresse: %q", s)}
			}
			t.Mail = s
		case "on":
			if !slices.Contains(notify.Ons, s) {
				return t, &subError{"." + k, fmt.Sprintf("%q: erlaubt sind %s", s, strings.Join(notify.Ons, ", "))}
			}
			t.On = s
		default:
			return t, &subError{"." + k, "unbekannter Schlüssel (bekannt: webhook, mail, on)"}
		}
	}
	switch {
	case t.Webhook == "" && t.Mail == "":
		return t, errors.New(`braucht "webhook" oder "mail"`)
	case t.Webhook != "" && t.Mail != "":
		return t, errors.New(`"webhook" und "mail" in einem Ziel; je Ziel eines`)
	case t.On == "":
		return t, &subError{".on", "fehlt (" + strings.Join(notify.Ons, ", ") + ")"}
	}
	return t, nil
}
