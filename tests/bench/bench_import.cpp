// Benchmark of `eventdesk import` on a large file (1 GB; EVENTDESK_BENCH_QUICK=1:
// 20 MB): wall time and peak RSS of the command, against a raw baseline in the
// same run (a child of this benchmark that reads the same lines, takes each
// line's "type" with QJsonDocument and inserts it through the sqlite3 C API in
// one transaction, checking nothing else). Exits non-zero when either import
// did not bring in every line; never on time or memory.
#include "BenchSupport.h"
#include "EventCodec.h"
#include "SampleEvents.h"
#include "SqliteEventStore.h"

#include <QCoreApplication>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QTemporaryDir>

#include <sqlite3.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

using namespace Qt::StringLiterals;
using namespace eventdesk;

namespace {

int rawImport(const QString &db, const QString &file)
{
    sqlite3 *h = nullptr;
    if (sqlite3_open(db.toUtf8().constData(), &h) != SQLITE_OK)
        return 2;
    sqlite3_exec(h, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    sqlite3_stmt *ins = nullptr;
    sqlite3_prepare_v2(h, "INSERT INTO app_events(event_type, payload, created_at, processed) VALUES(?1, ?2, ?3, 0)", -1, &ins, nullptr);
    QFile in(file);
    if (!in.open(QIODevice::ReadOnly))
        return 2;
    const QByteArray now = "2026-11-28T00:00:00.000Z";
    while (!in.atEnd()) {
        QByteArray line = in.readLine();
        while (line.endsWith('\n'))
            line.chop(1);
        if (line.isEmpty())
            continue;
        const QByteArray type = QJsonDocument::fromJson(line).object().value(u"type"_s).toString().toUtf8();
        sqlite3_bind_text(ins, 1, type.constData(), int(type.size()), SQLITE_STATIC);
        sqlite3_bind_text(ins, 2, line.constData(), int(line.size()), SQLITE_STATIC);
        sqlite3_bind_text(ins, 3, now.constData(), int(now.size()), SQLITE_STATIC);
        if (sqlite3_step(ins) != SQLITE_DONE)
            return 3;
        sqlite3_reset(ins);
    }
    sqlite3_finalize(ins);
    const int rc = sqlite3_exec(h, "COMMIT", nullptr, nullptr, nullptr);
    sqlite3_close(h);
    return rc == SQLITE_OK ? 0 : 3;
}

struct Run {
    int status = -1;
    double seconds = 0;
    long peakMb = 0;
};

// The command as a child process, with its own peak RSS from wait4.
Run runChild(const QStringList &argv)
{
    QList<QByteArray> bytes;
    for (const QString &a : argv)
        bytes.append(a.toLocal8Bit());
    std::vector<char *> args;
    for (QByteArray &b : bytes)
        args.push_back(b.data());
    args.push_back(nullptr);
    const qint64 start = bench::nowNs();
    const pid_t pid = fork();
    if (pid == 0) {
        const int devnull = ::open("/dev/null", O_WRONLY);
        dup2(devnull, STDOUT_FILENO);
        execv(args[0], args.data());
        _exit(127);
    }
    Run r;
    int status = 0;
    rusage usage{};
    wait4(pid, &status, 0, &usage);
    r.seconds = double(bench::nowNs() - start) / 1e9;
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.peakMb = usage.ru_maxrss / 1024;
    return r;
}

qint64 rowCount(const QString &db)
{
    sqlite3 *h = nullptr;
    sqlite3_open_v2(db.toUtf8().constData(), &h, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_stmt *q = nullptr;
    sqlite3_prepare_v2(h, "SELECT count(*) FROM app_events", -1, &q, nullptr);
    const qint64 n = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : -1;
    sqlite3_finalize(q);
    sqlite3_close(h);
    return n;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QLoggingCategory::setFilterRules(u"eventdesk.*.info=false"_s);
    const QStringList args = app.arguments();
    if (args.size() == 4 && args.at(1) == u"--raw"_s)
        return rawImport(args.at(2), args.at(3));

    const bool quick = qEnvironmentVariableIntValue("EVENTDESK_BENCH_QUICK") != 0;
    const qint64 targetBytes = quick ? 20LL << 20 : 1LL << 30;
    QTemporaryDir dir;
    const QString file = dir.filePath(u"big.jsonl"_s);
    qint64 lines = 0;
    {
        QFile out(file);
        if (!out.open(QIODevice::WriteOnly)) {
            std::fprintf(stderr, "cannot write %s\n", qPrintable(file));
            return 1;
        }
        QList<QByteArray> samples;
        for (EventKind k : test::allKinds())
            samples.append(codec::encode(test::sampleEvent(k, true, u"w1"_s)) + '\n');
        qint64 written = 0;
        while (written < targetBytes) {
            const QByteArray &line = samples.at(lines++ % samples.size());
            out.write(line);
            written += line.size();
        }
    }
    std::printf("import benchmark: %lld lines, %lld MB of JSON lines\n", qlonglong(lines), qlonglong(targetBytes >> 20));
    // Both into a log EventDesk made (same schema and indexes).
    const QString ours = dir.filePath(u"ours.db"_s), raw = dir.filePath(u"raw.db"_s);
    for (const QString &db : {ours, raw}) {
        SqliteOptions o;
        o.path = db;
        SqliteEventStore store(o);
        if (!store.openAndWait()) {
            std::fprintf(stderr, "cannot make %s\n", qPrintable(db));
            return 1;
        }
    }
    const Run r = runChild({QCoreApplication::applicationFilePath(), u"--raw"_s, raw, file});
    const Run e = runChild({QStringLiteral(EVENTDESK_BINARY), u"import"_s, u"--db"_s, ours, file});
    const qint64 rawRows = rowCount(raw), ourRows = rowCount(ours);
    std::printf("raw C API (no checks), one transaction: %.1f s, peak RSS %ld MB, %lld rows\n", r.seconds, r.peakMb, qlonglong(rawRows));
    std::printf("eventdesk import (every line checked, all or nothing): %.1f s (%.2fx raw time), peak RSS %ld MB (goal <= 200), %lld rows\n",
                e.seconds, e.seconds / std::max(r.seconds, 1e-9), e.peakMb, qlonglong(ourRows));
    if (r.status != 0 || e.status != 0 || rawRows != lines || ourRows != lines) {
        std::fprintf(stderr, "bench_import: an import did not bring in every line (raw exit %d, eventdesk exit %d)\n", r.status, e.status);
        return 1;
    }
    return 0;
}
