package config

import "werkstatt-backup/pdf"

// checkPDFCheck accepts what pdf_check may say: "alle", "aus", a share
// such as "5%".
func checkPDFCheck(s string) error {
	_, err := pdf.ParsePolicy(s)
	return err
}
