package backup

import (
	"strings"
	"testing"

	"werkstatt-backup/codec"
)

func TestFolder(t *testing.T) {
	tests := []struct {
		name    string
		id      codec.Identity
		want    string
		wantErr string
	}{
		{"path with prefix", codec.Identity{AuftragNr: "076329", FilePath: "test_archiv/2024/076329/076329_Auftrag.pdf"}, "2024/076329", ""},
		{"absolute path", codec.Identity{AuftragNr: "076329", FilePath: "/srv/archiv/2023/076329/x.pdf", Datum: "2024-01-01"}, "2023/076329", ""},
		{"windows path", codec.Identity{AuftragNr: "076329", FilePath: `C:\Archiv\2022\076329\076329_Auftrag.pdf`}, "2022/076329", ""},
		{"other order's folder falls back to datum", codec.Identity{AuftragNr: "076329", FilePath: "2024/111111/a.pdf", Datum: "2021-05-05"}, "2021/076329", ""},
		{"flat path uses datum", codec.Identity{AuftragNr: "076329", FilePath: "076329.pdf", Datum: "2020-02-29"}, "2020/076329", ""},
		{"then created_at", codec.Identity{AuftragNr: "076329", FilePath: "076329.pdf", CreatedAt: "2019-03-01T10:00:00"}, "2019/076329", ""},
		{"no year at all", codec.Identity{AuftragNr: "076329", FilePath: "076329.pdf"}, "", "kein Jahr"},
		{"climbing path cannot leave the root", codec.Identity{AuftragNr: "076329", FilePath: "../../2024/076329/../x.pdf", Datum: "2024-01-01"}, "2024/076329", ""},
		{"bad auftrag_nr", codec.Identity{AuftragNr: "../../x", FilePath: "2024/../../x/a.pdf"}, "", "6-stellig"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Folder(tt.id)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Folder = %q, %v; want error with %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Folder = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
