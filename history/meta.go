package history

import (
	"fmt"

	"werkstatt-backup/codec"
)

// RecordOf is the Record of the backup in folder described by m, as
// export has it after writing (or finding up to date) that folder.
func RecordOf(folder string, m codec.Meta) (Record, error) {
	h, err := ParseHash(m.Checksum)
	if err != nil {
		return Record{}, fmt.Errorf("%s/meta.json: %w", folder, err)
	}
	return Record{RecordID: m.RecordID, AuftragNr: m.AuftragNr, Folder: folder, Hash: h, Size: m.FileSize, Schema: m.SchemaVersion}, nil
}

// Meta is the meta.json of e as of generation info: exported_at is the
// generation's client time in local time, as export writes it.
func (e Entry) Meta(info GenerationInfo) codec.Meta {
	return codec.Meta{
		SchemaVersion: e.Schema,
		Checksum:      e.Hash.String(),
		ExportedAt:    info.ClientTime.Local().Format("2006-01-02T15:04:05"),
		AuftragNr:     e.AuftragNr,
		RecordID:      e.RecordID,
		FileSize:      e.Size,
	}
}
