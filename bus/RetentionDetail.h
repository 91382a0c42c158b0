// What the two prunes (bus/Retention.cpp for SQLite, bus/RetentionStream.cpp
// for a Redis stream) share: a prune's state, its archive and how it ends.
// Private to bus/.
#pragma once

#include "DeskPorts.h"

#include <QFile>
#include <QPromise>

#include <climits>
#include <memory>

#include <unistd.h>
#include <zlib.h>

namespace eventdesk::retention_detail {

// A prune runs in two phases. First every row that goes is written to the
// archive, under a temporary name; a cancel (or a failure) here deletes that
// file and has touched nothing. Then the archive is synced and renamed to its
// name, and only then are the archived rows deleted, a page per transaction;
// this phase runs to its end.
//
// A prune can be killed anywhere, so each archive has a record in the desk's
// eventdesk_archives before its file exists: 'writing' (the .part is being
// written), 'sealed' (the archive is whole; its rows are being deleted),
// 'done'. The next prune first finishes what the records say was left: a
// 'writing' one whose file never got its name loses its .part (nothing of it
// was deleted); a sealed one — or a 'writing' one whose rename happened just
// before the kill — has the rows its archive holds deleted, never archived
// again. A live prune holds an flock on its archive, so another run waits
// for it instead of taking its work away.
struct PruneState {
    PruneOptions options;
    PruneReport report;
    qint64 afterId = 0;
    QList<qint64> archived;      // ids written to the archive, in order (8 bytes a row: 80 MB for ten million)
    QList<qint64> pageEnds;      // the last id of each archived page (a stream is trimmed page by page)
    QList<qint64> pageCounts;    // and how many rows it held
    qsizetype deletedUpTo = 0;   // into archived (or pageEnds, for a stream)
    QList<qint64> lastPageIds;   // deleted by the last page: the row index forgets them
    gzFile archive = nullptr;
    int fd = -1;
    int lockFd = -1;             // holds an flock on the archive while this prune runs
    QString partPath;            // the archive while it is written
    qint64 record = 0;           // its row in eventdesk_archives (0: none, no desk)
    QPromise<Result<PruneReport>> promise;

    ~PruneState()
    {
        if (archive) {
            gzclose(archive);
            QFile::remove(partPath);  // never finished: no half archive stays behind
        }
        if (lockFd >= 0)
            ::close(lockFd);
    }
    bool cancelled() const { return options.cancel && options.cancel->load(); }
    void progress()
    {
        promise.setProgressValue(int(std::min<qint64>(INT_MAX, archived.size() + report.deleted)));
    }
};

QString cutoffText(const PruneOptions &o);
// The archive's lines, gzip'd into its .part (opened on the first write).
std::optional<Error> appendToArchive(PruneState &s, const QByteArray &lines);
// The archive whole: flushed, synced, closed, renamed to its name.
std::optional<Error> sealArchive(PruneState &s);
void finish(const std::shared_ptr<PruneState> &s, Result<PruneReport> result);
// The shared start of both prunes: the state, and the checks that refuse at once.
std::shared_ptr<PruneState> startPrune(const PruneOptions &options);
void finishCancelled(const std::shared_ptr<PruneState> &s);

} // namespace eventdesk::retention_detail
