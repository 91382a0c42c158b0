// publish, tail, export, import.
#include "Cli.h"
#include "EngineMessages.h"

#include "ImportFile.h"

#include "Ids.h"

#include "EventCodec.h"
#include "RowFormat.h"
#include "StoreScans.h"
#include "Subscriber.h"
#include "Timestamp.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QSaveFile>
#include <QSocketNotifier>
#include <QTemporaryFile>

#include <atomic>

#include <cstdio>

using namespace Qt::StringLiterals;

namespace eventdesk::app {

namespace {

const QCommandLineOption worldOption(u"world"_s, u"Only events of this world (repeatable)."_s, u"world"_s);
const QCommandLineOption noWorldOption(u"no-world"_s, u"Also (or only) events without a world."_s);
const QCommandLineOption typeOption(u"type"_s, u"Only these types: variant, message or category names, comma separated (repeatable)."_s, u"types"_s);
const QCommandLineOption fromIdOption(u"from-id"_s, u"Only events with an id greater than this."_s, u"id"_s);
const QCommandLineOption toIdOption(u"to-id"_s, u"Only events with an id up to this."_s, u"id"_s);
const QCommandLineOption sinceOption(u"since"_s, u"Only events created at or after this (ISO-8601, or 30m, 2h, 7d ago)."_s, u"time"_s);
const QCommandLineOption untilOption(u"until"_s, u"Only events created before this (ISO-8601, or 30m, 2h, 7d ago)."_s, u"time"_s);
const QCommandLineOption textOption(u"text"_s, u"Only events whose payload contains this text."_s, u"text"_s);
const QCommandLineOption formatOption(u"format"_s, u"Output: jsonl or table."_s, u"format"_s, u"table"_s);

void addFilterOptions(CommandParser &p)
{
    for (const QCommandLineOption &o : {worldOption, noWorldOption, typeOption, fromIdOption, toIdOption, sinceOption,
                                        untilOption, textOption})
        p.addOption(o);
}

// "30m", "2h" ago; or an RFC 3339 time (a date alone is its midnight, UTC).
std::optional<qint64> parseTime(const QString &text)
{
    if (const auto ago = parseSpan(text, u"smhd"))
        return timestamp::nanos(QDateTime::currentDateTimeUtc().addSecs(-*ago));
    if (text.size() == 10)
        return timestamp::parseNanos(QString(text + u"T00:00:00Z"_s));
    return timestamp::parseNanos(text);
}

// The filters as a query; returns an exit status when an option is bad.
std::optional<int> queryFrom(CommandParser &p, EventQuery &query, qint64 &toId)
{
    QCommandLineParser &parser = p.parser();
    query.worlds = parser.values(worldOption);
    for (const QString &w : std::as_const(query.worlds))
        if (w.isEmpty())
            return usage(u"--world needs a world id (use --no-world for events without one)"_s);
    if (parser.isSet(noWorldOption))
        query.worlds.append(QString());
    for (const QString &list : parser.values(typeOption)) {
        for (const QString &raw : list.split(u',', Qt::SkipEmptyParts)) {
            const QString t = raw.trimmed();
            if (auto k = catalog::kindFromName(t)) {
                query.kinds.append(*k);
            } else if (auto m = catalog::kindFromMessageName(t)) {
                query.kinds.append(*m);
            } else if (auto c = catalog::categoryFromName(t)) {
                query.kinds.append(catalog::kindsInCategory(*c));
            } else if (engine::areaOf(t)) {
                query.tags.append(t);  // a message of today's engine, recorded (DialogueResponse, …)
            } else {
                return usage(u"unknown event type '%1' (try ChallengeResolved, challenge, DialogueResponse, …)"_s.arg(t.left(60)));
            }
        }
    }
    int status = ExitOk;
    const auto from = p.integer(u"from-id"_s, 0, 0, std::numeric_limits<qint64>::max(), &status);
    if (!from)
        return status;
    query.afterId = *from;
    const auto to = p.integer(u"to-id"_s, 0, 0, std::numeric_limits<qint64>::max(), &status);
    if (!to)
        return status;
    toId = *to;
    if (parser.isSet(sinceOption)) {
        query.createdFrom = parseTime(parser.value(sinceOption));
        if (!query.createdFrom)
            return usage(u"--since: '%1' is not a time (ISO-8601, or 30m, 2h, 7d)"_s.arg(parser.value(sinceOption).left(40)));
    }
    if (parser.isSet(untilOption)) {
        query.createdTo = parseTime(parser.value(untilOption));
        if (!query.createdTo)
            return usage(u"--until: '%1' is not a time (ISO-8601, or 30m, 2h, 7d)"_s.arg(parser.value(untilOption).left(40)));
    }
    query.text = parser.value(textOption);
    return std::nullopt;
}

// names: display names (id → name) of worlds and characters, from EventDesk's
// own database: a world shows by its name, a summary names its characters.
QByteArray tableRow(const StoredEvent &row, const QHash<QString, QString> &names)
{
    const QString when = row.createdAt.isValid() ? row.createdAt.toLocalTime().toString(u"yyyy-MM-dd HH:mm:ss"_s)
                                                 : row.createdAtText;
    const QString id = row.worldId();
    const QString world = row.event || row.isEngineMessage() ? (id.isEmpty() ? u"-"_s : names.value(id, id)) : u"?"_s;
    const QString summary = engine::rowSummary(row, &names);
    return u"%1  %2  %3  %4  %5\n"_s.arg(row.id, 7).arg(when).arg(row.eventType.left(26), -26).arg(world.left(16), -16)
        .arg(summary).toUtf8();
}


} // namespace

int publishCommand(const QStringList &args)
{
    CommandParser p(u"publish"_s, u"Publish events and print each new id on its own line."_s, u"[file]"_s,
                    u"JSON lines of AppEvents ('-' or nothing: standard input)."_s);
    const QCommandLineOption jsonOption(u"json"_s, u"One AppEvent as JSON (repeatable)."_s, u"json"_s);
    const QCommandLineOption strictIdsOption(u"strict-ids"_s,
                                             u"Refuse events whose ids are not UUIDs (the engine's own rule)."_s);
    p.addOption(jsonOption);
    p.addOption(strictIdsOption);
    if (auto status = p.parse(args))
        return *status;
    if (p.parser().positionalArguments().size() > 1)
        return usage(u"publish takes at most one file"_s);
    if (p.parser().isSet(jsonOption) && !p.parser().positionalArguments().isEmpty())
        return usage(u"publish takes --json or a file, not both"_s);

    auto opened = BusHandle::open(p.busConfig());
    if (!opened)
        return failWith(opened.error());
    BusHandle &bus = *opened.value();

    int bad = 0;
    const bool strictIds = p.parser().isSet(strictIdsOption);
    // Does this log use UUIDs throughout (as the engine does)? Looked at once, on
    // the newest rows, the first time an event with other ids comes along.
    std::optional<bool> logUsesUuids;
    const auto usesUuids = [&] {
        if (!logUsesUuids) {
            EventQuery newest;
            newest.newestFirst = true;
            newest.limit = 200;
            const auto page = wait(bus.store().fetchPage(newest));
            bool all = page.ok() && !page->isEmpty();
            for (const StoredEvent &row : page.ok() ? page.value() : QList<StoredEvent>())
                all = all && row.event && ids::nonUuidIds(*row.event).isEmpty();
            logUsesUuids = all;
        }
        return *logUsesUuids;
    };
    const auto publishOne = [&](const QByteArray &text, const QString &where) -> bool {
        Result<AppEvent> event = rows::eventFromImportLine(text);
        if (!event) {
            ++bad;
            fail(where + event.error().message);
            return true;
        }
        if (const QStringList notUuids = ids::nonUuidIds(*event); !notUuids.isEmpty()) {
            if (strictIds) {
                ++bad;
                fail(where + u"not published: ids that are not UUIDs (%1); the engine refuses them"_s.arg(notUuids.join(u", "_s)));
                return true;
            }
            if (usesUuids())
                std::fprintf(stderr, "eventdesk: warning: %sids that are not UUIDs (%s) in a log whose ids are all UUIDs; "
                                     "the engine's readers refuse them (--strict-ids refuses them here)\n",
                             qPrintable(where), qPrintable(notUuids.join(u", "_s)));
        }
        const PublishResult r = wait(bus.bus().publish(*event));
        if (!r) {
            if (r.error().code == ErrorCode::InvalidEvent || r.error().code == ErrorCode::TooLarge) {
                ++bad;
                fail(where + r.error().message);
                return true;
            }
            fail(where + r.error().message);
            return false;  // the store failed: stop here, everything printed so far is stored
        }
        printOut(QByteArray::number(r.value()) + '\n');
        return true;
    };

    if (p.parser().isSet(jsonOption)) {
        const QStringList values = p.parser().values(jsonOption);
        for (qsizetype i = 0; i < values.size(); ++i) {
            const QString where = values.size() > 1 ? u"--json %1: "_s.arg(i + 1) : QString();
            if (!publishOne(values.at(i).toUtf8(), where))
                return ExitFailure;
        }
        return bad ? ExitFailure : ExitOk;
    }

    importfile::LineReader in(p.parser().positionalArguments().value(0));
    if (!in.ok())
        return fail(u"cannot read %1: %2"_s.arg(p.parser().positionalArguments().value(0), in.error()));
    qint64 lineNo = 0;
    bool tooLong = false;
    while (auto line = in.next(&tooLong)) {
        ++lineNo;
        const QString where = u"line %1: "_s.arg(lineNo);
        if (tooLong) {
            ++bad;
            fail(where + u"longer than %1 bytes"_s.arg(codec::MaxDocumentBytes));
            continue;
        }
        if (line->trimmed().isEmpty())
            continue;
        if (!publishOne(*line, where))
            return ExitFailure;
    }
    return bad ? ExitFailure : ExitOk;
}

int tailCommand(const QStringList &args)
{
    CommandParser p(u"tail"_s, u"Print events, oldest first; with --follow, keep printing new ones."_s);
    addFilterOptions(p);
    p.addOption(formatOption);
    const QCommandLineOption followOption({u"f"_s, u"follow"_s}, u"Keep running and print new events as they arrive."_s);
    const QCommandLineOption lastOption(u"last"_s, u"Start with only the last N matching events."_s, u"n"_s);
    const QCommandLineOption limitOption(u"limit"_s, u"Stop after printing N events."_s, u"n"_s);
    p.addOption(followOption);
    p.addOption(lastOption);
    p.addOption(limitOption);
    if (auto status = p.parse(args))
        return *status;
    EventQuery query;
    qint64 toId = 0;
    if (auto status = queryFrom(p, query, toId))
        return *status;
    const QString format = p.parser().value(formatOption);
    if (format != u"jsonl"_s && format != u"table"_s)
        return usage(u"--format must be jsonl or table, not '%1'"_s.arg(format.left(20)));
    int status = ExitOk;
    const auto last = p.integer(u"last"_s, 0, 1, 1000000, &status);
    const auto limit = last ? p.integer(u"limit"_s, 0, 1, std::numeric_limits<qint64>::max(), &status) : std::nullopt;
    if (!last || !limit)
        return status;
    const bool follow = p.parser().isSet(followOption);

    auto opened = BusHandle::open(p.busConfig(!follow));
    if (!opened)
        return failWith(opened.error());
    BusHandle &bus = *opened.value();
    const bool jsonl = format == u"jsonl"_s;
    qint64 printed = 0;
    // The table names worlds and characters as the window does; a world not
    // named yet (a recording just joined it) looks the names up again, at
    // most every 5 s.
    QHash<QString, QString> names;
    QElapsedTimer namesRead;
    const auto readNames = [&] {
        if (DeskBook *book = bus.book(); book && !jsonl)
            if (const auto got = wait(book->displayNames()))
                names = got.value();
        namesRead.start();
    };
    readNames();
    const auto print = [&](const StoredEvent &row) {
        if (!jsonl && !row.worldId().isEmpty() && !names.contains(row.worldId()) && namesRead.elapsed() > 5000)
            readNames();
        printOut(jsonl ? rows::toJsonLine(row) + '\n' : tableRow(row, names));
        return *limit == 0 || ++printed < *limit;
    };

    qint64 cursor = query.afterId;
    if (*last > 0) {
        EventQuery newest = query;
        newest.newestFirst = true;
        newest.limit = int(*last);
        if (toId > 0)
            newest.beforeId = toId + 1;
        auto page = wait(bus.store().fetchPage(newest));
        if (!page)
            return fail(page.error().message);
        if (!page->isEmpty())
            cursor = page->first().id;
        for (auto it = page->crbegin(); it != page->crend(); ++it)
            if (!print(*it))
                return ExitOk;
    } else {
        // Page through what is there.
        EventQuery pages = query;
        pages.afterId = cursor;
        pages.limit = 1000;
        if (toId > 0)
            pages.beforeId = toId + 1;
        bool stopped = false;
        const std::optional<Error> error = forEachPageAndWait(bus.store(), pages, [&](const QList<StoredEvent> &rows) {
            for (const StoredEvent &row : rows) {
                cursor = row.id;
                if (!print(row)) {
                    stopped = true;
                    return false;
                }
            }
            return true;
        });
        if (error)
            return fail(error->message);
        if (stopped)
            return ExitOk;
    }
    if (!follow)
        return ExitOk;

    // Live: woken by the in-process notifier and the data_version poll; no sleep loop.
    const auto head = wait(bus.store().headId());
    if (!head)
        return fail(head.error().message);
    qint64 startAfter = std::max(cursor, head.value());
    BusHandle *current = &bus;
    std::unique_ptr<BusHandle> reopened;
    EventQuery live = query;
    live.afterId = 0;
    live.beforeId = toId > 0 ? toId + 1 : 0;
    constexpr int FileReplaced = 1000;  // an exit code of the loop below, never of the command
    for (;;) {
        Subscriber sub(current->store(), current->notifier(), {.startAfter = startAfter});
        QObject::connect(&sub, &Subscriber::eventsReceived, &sub, [&](const QList<StoredEvent> &batch) {
            for (const StoredEvent &row : batch) {
                if (live.matches(row) && !print(row)) {
                    QCoreApplication::exit(ExitOk);
                    return;
                }
            }
        });
        QObject::connect(&sub, &Subscriber::errorOccurred, &sub, [&](const Error &e) { fail(e.message); });
        QObject::connect(&sub, &Subscriber::logWentBack, &sub, [&](qint64 was, qint64 newest) {
            // Loud, on stderr, and then on: the new log is printed from its start.
            fail(u"the event log went back in time: its newest id is %1, but %2 had been read; it was reset or "
                 "replaced. Following it again from its start."_s.arg(newest).arg(was));
        });
        if (LogWatch *file = current->logFile())
            QObject::connect(file, &LogWatch::fileReplaced, &sub, [] { QCoreApplication::exit(FileReplaced); });
        // Started from inside the loop: a first batch that is already there is
        // printed (and --limit may end the command) while exec() runs, not before.
        QMetaObject::invokeMethod(&sub, &Subscriber::start, Qt::QueuedConnection);
        const int rc = QCoreApplication::exec();
        if (rc != FileReplaced)
            return rc;
        fail(u"the database file %1 was replaced by another file; following the new one from its start"_s.arg(current->location()));
        auto next = BusHandle::open(p.busConfig(false));
        if (!next)
            return failWith(next.error());
        reopened = std::move(next).value();
        current = reopened.get();
        startAfter = 0;
    }
}

int exportCommand(const QStringList &args)
{
    CommandParser p(u"export"_s, u"Write events, oldest first, as JSON lines or CSV."_s);
    addFilterOptions(p);
    const QCommandLineOption exportFormat(u"format"_s, u"Output: jsonl (default) or csv."_s, u"format"_s, u"jsonl"_s);
    const QCommandLineOption outputOption({u"o"_s, u"output"_s}, u"Write to this file (default: standard output)."_s, u"file"_s);
    const QCommandLineOption quietOption(u"quiet"_s, u"No progress bar (there is one only when stderr is a terminal)."_s);
    p.addOption(exportFormat);
    p.addOption(outputOption);
    p.addOption(quietOption);
    if (auto status = p.parse(args))
        return *status;
    EventQuery query;
    qint64 toId = 0;
    if (auto status = queryFrom(p, query, toId))
        return *status;
    const QString format = p.parser().value(exportFormat);
    if (format != u"jsonl"_s && format != u"csv"_s)
        return usage(u"--format must be jsonl or csv, not '%1'"_s.arg(format.left(20)));

    auto opened = BusHandle::open(p.busConfig(true));
    if (!opened)
        return failWith(opened.error());
    BusHandle &bus = *opened.value();

    // A file appears whole or not at all.
    std::unique_ptr<QSaveFile> file;
    if (p.parser().isSet(outputOption)) {
        file = std::make_unique<QSaveFile>(p.parser().value(outputOption));
        if (!file->open(QIODevice::WriteOnly))
            return fail(u"cannot write %1: %2"_s.arg(file->fileName(), file->errorString()));
    }
    const auto write = [&](const QByteArray &bytes) {
        if (file)
            file->write(bytes);
        else
            std::fwrite(bytes.constData(), 1, size_t(bytes.size()), stdout);
    };
    const bool csv = format == u"csv"_s;
    if (csv)
        write(rows::csvHeader());
    Progress progress(u"exporting"_s, u"rows"_s, p.parser().isSet(quietOption));
    if (progress.shown()) {  // counted only for the bar
        EventQuery all = query;
        if (toId > 0)
            all.beforeId = toId + 1;
        if (const Result<qint64> n = wait(bus.store().count(all)); n)
            progress.setTotal(n.value());
    }
    qint64 exported = 0;
    EventQuery pages = query;
    pages.limit = 2000;
    if (toId > 0)
        pages.beforeId = toId + 1;
    const std::optional<Error> error = forEachPageAndWait(bus.store(), pages, [&](const QList<StoredEvent> &rows) {
        for (const StoredEvent &row : rows)
            write(csv ? rows::toCsvRow(row) : rows::toJsonLine(row) + '\n');
        exported += rows.size();
        progress.update(exported);
        return true;
    });
    if (error) {
        if (file)
            file->cancelWriting();
        return fail(error->message);
    }
    progress.finish();
    if (file && !file->commit())
        return fail(u"cannot write %1: %2"_s.arg(file->fileName(), file->errorString()));
    std::fflush(stdout);
    return ExitOk;
}

int importCommand(const QStringList &args)
{
    CommandParser p(u"import"_s,
                    u"Import events from JSON lines (the export form or bare AppEvents). All or nothing: "
                    "one bad line and nothing is imported. Rows in the export form keep their created_at, "
                    "processed and processed_at; ids are new unless --keep-ids."_s,
                    u"[file]"_s, u"JSON lines ('-' or nothing: standard input)."_s);
    const QCommandLineOption keepIdsOption(u"keep-ids"_s, u"Keep the rows' ids (only into an empty log)."_s);
    const QCommandLineOption quietOption(u"quiet"_s, u"No progress bar (there is one only when stderr is a terminal)."_s);
    p.addOption(keepIdsOption);
    p.addOption(quietOption);
    if (auto status = p.parse(args))
        return *status;
    if (p.parser().positionalArguments().size() > 1)
        return usage(u"import takes at most one file"_s);
    const bool keepIds = p.parser().isSet(keepIdsOption);
    const QString path = p.parser().positionalArguments().value(0);
    importfile::LineReader in(path);
    if (!in.ok())
        return fail(u"cannot read %1: %2"_s.arg(path, in.error()));
    // All or nothing, in constant memory: every line is checked first (standard
    // input is kept in a temporary file meanwhile), then read again into one
    // transaction. A Redis stream takes the events in one script, so there
    // they are held.
    const bool toRedis = p.busConfig().busUrl.startsWith(u"redis"_s);
    std::unique_ptr<QTemporaryFile> spool;
    if (path.isEmpty() || path == u"-"_s) {
        spool = std::make_unique<QTemporaryFile>();
        if (!spool->open())
            return fail(u"cannot keep standard input for the import: %1"_s.arg(spool->errorString()));
    }
    Progress progress(u"checking"_s, u"bytes"_s, p.parser().isSet(quietOption));
    if (!spool)
        progress.setTotal(QFileInfo(path).size());
    importfile::CheckOptions checking;
    checking.keepIds = keepIds;
    checking.hold = toRedis;
    checking.copyTo = spool.get();
    checking.progress = [&progress](qint64 bytes) { progress.update(bytes); };
    Result<importfile::Check> checked = importfile::check(in, checking);
    if (!checked)
        return fail(checked.error().message);
    progress.update(in.position(), true);
    if (const QString refusal = checked->refusal(); !refusal.isEmpty())
        return fail(refusal);  // one line, the first problem named
    const qint64 rowsSeen = checked->rows;
    qint64 kept = checked->kept;
    const QList<rows::ImportedRow> held = std::move(checked.value().held);
    if (rowsSeen == 0)
        return fail(u"nothing to import"_s);

    auto opened = BusHandle::open(p.busConfig());
    if (!opened)
        return failWith(opened.error());
    BusHandle &bus = *opened.value();
    qint64 count = 0, firstId = 0, lastId = 0;
    if (bus.redis()) {
        if (keepIds)
            return usage(u"--keep-ids works on an SQLite database, not on a Redis stream"_s);
        const BatchPublishResult r = wait(bus.redis()->appendImported(held));
        if (!r)
            return fail(u"nothing imported: %1"_s.arg(r.error().message));
        if (!r->isEmpty())
            bus.notifier().notifyAppended(r->last());
        count = r->size();
        firstId = r->first();
        lastId = r->last();
        kept = 0;  // a stream entry's time is its own
    } else {
        if (spool && !spool->flush())
            return fail(u"cannot keep standard input for the import: %1"_s.arg(spool->errorString()));
        // Read again on the writer's thread, a line at a time.
        const QString again = spool ? spool->fileName() : path;
        auto written = std::make_shared<std::atomic<qint64>>(0);
        const auto read = importfile::rowsOf(again, written);
        progress.setWhat(u"importing"_s, u"rows"_s);
        progress.setTotal(rowsSeen);
        const Result<SqliteEventStore::ImportSummary> r =
            waitShowing(bus.sqlite()->importStream(read, keepIds), progress, [written] { return written->load(); });
        progress.finish();
        if (!r)
            return fail(u"nothing imported: %1"_s.arg(r.error().message));
        count = r->count;
        firstId = r->firstId;
        lastId = r->lastId;
        if (count > 0)
            bus.notifier().notifyAppended(lastId);
    }
    printOut(u"imported %1 events (ids %2–%3)%4%5\n"_s.arg(count).arg(firstId).arg(lastId)
                 .arg(kept ? u", created_at kept for %1"_s.arg(kept) : QString(),
                      keepIds ? u", ids kept"_s : QString())
                 .toUtf8());
    return ExitOk;
}

} // namespace eventdesk::app
