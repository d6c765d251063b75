// Package pdf finds, hashes and checks the orders' PDFs.
//
// An order's PDF is named by its row's file_path, as the workshop's
// application stored it: relative ("test_archiv/2024/076329/076329_Auftrag.pdf"),
// absolute, or Windows-style (backslashes, a drive letter, a UNC path).
// Resolve turns it into a path below the PDF tree (a storage.Archive: the
// archive itself in the seed's layout, else the site's key pdfs): the path
// as given when it lies below the tree, else its trailing
// <JJJJ>/<auftrag_nr>/<file name>.
//
// The row's hash decides the algorithm by its form (KindOf): 64 hex digits
// SHA-256, 40 SHA-1, 32 MD5, in any letter case; anything else cannot be
// checked ("nicht prüfbar"). Check reads PDFs as streams on several
// workers, never a whole file in memory, and always also computes the
// content's SHA-256, which names the PDF's copy in an archive (ObjectName).
//
// Layout of what this package keeps in an archive:
//
//	_pdfs/<sha256[:2]>/<sha256>.pdf   one copy of each distinct PDF content, created once (export --full replaces one that no longer proves its name)
//	_pdfs/index.json                  per order: tree position, size, mtime, row hash, sha256 (Index)
//	_pdfs/gelesen.json                the seed's layout (no copies): the same per PDF export read (SeenFile)
//	_pdfs/tmp/                        copies being written by a running export (removed by the next)
//	_pdfpruefung.json                 where verify's rotating share stands (Rotation)
//
// The two indexes hold an entry per order, sorted by record_id: hundreds
// of megabytes of JSON at a million orders. Export, verify and restore
// read them entry by entry (IndexReader) beside the orders in record_id
// order, and export writes a changed one as a stream into its temp file
// (IndexWriter, Update); none holds an index whole.
package pdf
