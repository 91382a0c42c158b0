#include "LogTransfer.h"

#include "RowFormat.h"
#include "StoreScans.h"
#include "TaskProgress.h"

#include <QFileInfo>
#include <QSaveFile>
#include <QTimer>

#include <memory>

using namespace Qt::StringLiterals;

namespace eventdesk {

LogTransfer::LogTransfer(EventStore &store, LogImport *importer, TaskProgress *task, QObject *parent)
    : QObject(parent)
    , m_store(store)
    , m_importer(importer)
    , m_task(task)
{
}

void LogTransfer::exportRows(const EventQuery &query, qint64 expectedRows, const QString &path)
{
    if (m_task->isRunning()) {
        Q_EMIT message(tr("Wait for the task under way to finish, or cancel it"));
        return;
    }
    auto file = std::make_shared<QSaveFile>(path);
    if (!file->open(QIODevice::WriteOnly)) {
        Q_EMIT message(tr("Cannot write %1: %2").arg(path, file->errorString()));
        return;
    }
    const bool csv = path.endsWith(u".csv"_s, Qt::CaseInsensitive);
    if (csv)
        file->write(rows::csvHeader());
    EventQuery q = query;
    q.limit = 2000;
    auto written = std::make_shared<qint64>(0);
    // The file appears whole when the last page is written (QSaveFile): a
    // cancel or an error leaves no file, and an existing one as it was.
    m_task->begin(tr("Exporting"), expectedRows);
    // Page by page, oldest first, so the window stays responsive on a big log.
    auto failed = std::make_shared<QString>();
    const auto visit = [this, file, csv, written, path, failed](const QList<StoredEvent> &rows) {
        if (m_task->isCancelled()) {
            *failed = tr("Export cancelled: nothing was written");
            return false;
        }
        QByteArray chunk;
        for (const StoredEvent &e : rows)
            chunk += csv ? rows::toCsvRow(e) : rows::toJsonLine(e) + '\n';
        if (file->write(chunk) != chunk.size()) {
            *failed = tr("Export stopped: cannot write %1: %2").arg(path, file->errorString());
            return false;
        }
        *written += rows.size();
        m_task->update(*written);
        return true;
    };
    const auto done = [this, file, written, path, failed](std::optional<Error> error) {
        const bool cancelled = m_task->isCancelled();
        m_task->finish();
        if (error || !failed->isEmpty() || cancelled) {
            file->cancelWriting();
            Q_EMIT message(error ? tr("Export stopped: %1").arg(error->message)
                              : failed->isEmpty() ? tr("Export cancelled: nothing was written") : *failed);
            return;
        }
        if (!file->commit()) {
            Q_EMIT message(tr("Export failed: %1").arg(file->errorString()));
            return;
        }
        Q_EMIT message(tr("Exported %n event(s) to %1", nullptr, int(*written)).arg(path));
        Q_EMIT exported(*written, path);
    };
    // From the event loop, never inside this call: a page read before its
    // continuation is attached would otherwise run (and finish) right here.
    QTimer::singleShot(0, this, [this, q, visit, done] { forEachPage(m_store, q, this, visit, done); });
}

// JSON lines into the log, all or nothing (LogImport): progress and Cancel in
// the status bar, first while every line is checked, then while the rows go in;
// a cancel in either phase leaves the log as it was.
void LogTransfer::importFile(const QString &path)
{
    if (!m_importer)
        return;
    if (!m_task->begin(tr("Checking %1").arg(QFileInfo(path).fileName()), QFileInfo(path).size())) {
        Q_EMIT message(tr("Wait for the task under way to finish, or cancel it"));
        return;
    }
    auto progress = std::make_shared<ImportProgress>();
    auto poll = std::make_shared<QTimer>();
    connect(poll.get(), &QTimer::timeout, this, [this, progress] {
        if (progress->phase == ImportProgress::Importing && m_task->isRunning() && !m_task->isCancelled()
            && !m_importing) {
            m_importing = true;
            m_task->finish();
            m_task->begin(tr("Importing"), progress->total);
        }
        m_task->update(progress->done);
    });
    poll->start(100);
    const QMetaObject::Connection cancelling
        = connect(m_task, &TaskProgress::cancelRequested, this, [progress] { progress->cancel = true; });
    // Started from the event loop: a Cancel pressed right away is seen by the first check.
    QTimer::singleShot(0, this, [this, path, progress, poll, cancelling] {
        m_importer->importFile(path, progress).then(this, [this, poll, cancelling](const Result<ImportReport> &r) {
            poll->stop();
            disconnect(cancelling);
            m_importing = false;
            m_task->finish();
            if (!r)
                Q_EMIT message(r.error().code == ErrorCode::InvalidEvent ? tr("Import refused, %1").arg(r.error().message)
                                                                      : tr("Nothing was imported: %1").arg(r.error().message));
            else if (r->cancelled)
                Q_EMIT message(tr("Import cancelled: nothing was imported"));
            else {
                Q_EMIT message(tr("Imported %n event(s) (ids %1–%2)", nullptr, int(r->count)).arg(r->firstId).arg(r->lastId));
                Q_EMIT imported(r->count);
            }
        });
    });
}

} // namespace eventdesk
