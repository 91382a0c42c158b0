#include "ImportFile.h"

#include "EventCodec.h"
#include "RowFormat.h"

#include <QFileInfo>
#include <QPromise>
#include <QThreadPool>

#include <cstdio>

using namespace Qt::StringLiterals;

namespace eventdesk::importfile {

LineReader::LineReader(const QString &path)
{
    if (path.isEmpty() || path == u"-"_s) {
        m_ok = m_file.open(stdin, QIODevice::ReadOnly);
    } else {
        m_file.setFileName(path);
        m_ok = m_file.open(QIODevice::ReadOnly);
    }
}

std::optional<QByteArray> LineReader::next(bool *tooLong)
{
    *tooLong = false;
    QByteArray line;
    while (true) {
        char buf[65536];
        const qint64 n = m_file.readLine(buf, sizeof buf);
        if (n <= 0)
            return line.isEmpty() && n < 0 ? std::nullopt : std::optional<QByteArray>(line);
        if (line.size() < codec::MaxDocumentBytes + 2)
            line.append(buf, n);
        else
            *tooLong = true;
        if (buf[n - 1] == '\n')
            break;
    }
    while (line.endsWith('\n') || line.endsWith('\r'))
        line.chop(1);
    if (line.size() > codec::MaxDocumentBytes)
        *tooLong = true;
    return line;
}

QString Check::refusal() const
{
    if (problems == 0)
        return {};
    return u"nothing imported: %1%2"_s.arg(firstProblem, problems > 1 ? u" (and %1 more bad lines of %2)"_s.arg(problems - 1).arg(lines)
                                                                      : QString());
}

Result<Check> check(LineReader &in, const CheckOptions &options)
{
    Check c;
    bool tooLong = false;
    while (auto line = in.next(&tooLong)) {
        ++c.lines;
        if ((c.lines & 1023) == 0) {
            if (options.cancel && options.cancel->load())
                return Error{ErrorCode::Usage, {}, Cancelled};
            if (options.progress)
                options.progress(in.position());
        }
        if (options.copyTo && (options.copyTo->write(*line) < 0 || !options.copyTo->putChar('\n')))
            return Error{ErrorCode::Storage, {}, u"cannot keep standard input for the import: %1"_s.arg(options.copyTo->errorString())};
        QString problem;
        if (tooLong) {
            problem = u"longer than %1 bytes"_s.arg(codec::MaxDocumentBytes);
        } else if (line->trimmed().isEmpty()) {
            continue;
        } else if (Result<rows::ImportedRow> row = rows::rowFromImportLine(*line); !row) {
            problem = row.error().message;
        } else if (auto invalid = row->recorded ? std::nullopt : validate(row->event)) {
            problem = invalid->message;
        } else if (options.keepIds && row->id == 0) {
            problem = u"--keep-ids needs the export form, with an id"_s;
        } else {
            ++c.rows;
            c.kept += row->createdAt.isEmpty() ? 0 : 1;
            if (options.hold)
                c.held.append(std::move(row).value());
        }
        if (!problem.isEmpty() && c.problems++ == 0)
            c.firstProblem = u"line %1: %2"_s.arg(c.lines).arg(problem);
    }
    if (options.progress)
        options.progress(in.position());
    return c;
}

SqliteEventStore::RowSource rowsOf(const QString &path, std::shared_ptr<std::atomic<qint64>> written,
                                   std::shared_ptr<std::atomic<bool>> cancel)
{
    auto source = std::make_shared<std::unique_ptr<LineReader>>();
    return [path, source, written, cancel]() -> Result<std::optional<rows::ImportedRow>> {
        if (cancel && cancel->load())
            return Error{ErrorCode::Usage, {}, Cancelled};
        if (!*source) {
            *source = std::make_unique<LineReader>(path);
            if (!(*source)->ok())
                return Error{ErrorCode::Storage, {}, u"cannot read %1 again: %2"_s.arg(path, (*source)->error())};
        }
        bool cut = false;
        while (auto line = (*source)->next(&cut)) {
            if (!cut && line->trimmed().isEmpty())
                continue;
            Result<rows::ImportedRow> row = cut ? Result<rows::ImportedRow>(Error{ErrorCode::TooLarge, {}, u"a line changed"_s})
                                                : rows::rowFromImportLine(*line);
            if (!row)
                return Error{ErrorCode::InvalidEvent, {}, u"the file changed while it was imported: %1"_s.arg(row.error().message)};
            if (written)
                written->fetch_add(1, std::memory_order_relaxed);
            return std::optional(std::move(row).value());
        }
        return std::optional<rows::ImportedRow>();
    };
}

} // namespace eventdesk::importfile

namespace eventdesk {

QFuture<Result<ImportReport>> FileImporter::importFile(const QString &path, std::shared_ptr<ImportProgress> progress)
{
    progress->phase = ImportProgress::Checking;
    progress->done = 0;
    progress->total = QFileInfo(path).size();
    auto checked = std::make_shared<QPromise<Result<importfile::Check>>>();
    QFuture<Result<importfile::Check>> checking = checked->future();
    checked->start();
    QThreadPool::globalInstance()->start([checked, path, progress] {
        importfile::LineReader in(path);
        if (!in.ok()) {
            checked->addResult(Error{ErrorCode::Storage, {}, u"cannot read %1: %2"_s.arg(path, in.error())});
        } else {
            importfile::CheckOptions o;
            o.cancel = &progress->cancel;
            o.progress = [progress](qint64 bytes) { progress->done = bytes; };
            checked->addResult(importfile::check(in, o));
        }
        checked->finish();
    });
    SqliteEventStore &store = m_store;
    Notifier &notifier = m_notifier;
    return checking.then([&store, &notifier, path, progress](const Result<importfile::Check> &check) -> QFuture<Result<ImportReport>> {
        const auto ready = [](Result<ImportReport> r) { return QtFuture::makeReadyFuture(std::move(r)); };
        if (!check)
            return ready(check.error().message == importfile::Cancelled ? Result<ImportReport>(ImportReport{true})
                                                                          : Result<ImportReport>(check.error()));
        if (const QString refusal = check->refusal(); !refusal.isEmpty())
            return ready(Error{ErrorCode::InvalidEvent, {}, refusal});
        if (check->rows == 0)
            return ready(Error{ErrorCode::NotFound, {}, u"no event in %1"_s.arg(path)});
        progress->phase = ImportProgress::Importing;
        progress->done = 0;
        progress->total = check->rows;
        // The rows are counted straight into the progress, and its cancel rolls the transaction back.
        const auto source = importfile::rowsOf(path, std::shared_ptr<std::atomic<qint64>>(progress, &progress->done),
                                               std::shared_ptr<std::atomic<bool>>(progress, &progress->cancel));
        return store.importStream(source, false).then([&notifier, progress](const Result<SqliteEventStore::ImportSummary> &r) -> Result<ImportReport> {
            if (!r)
                return progress->cancel.load() ? Result<ImportReport>(ImportReport{true}) : Result<ImportReport>(r.error());
            if (r->count > 0)
                notifier.notifyAppended(r->lastId);
            return ImportReport{false, r->count, r->firstId, r->lastId};
        });
    }).unwrap();
}

} // namespace eventdesk
