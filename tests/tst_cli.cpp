// The eventdesk executable as a newcomer meets it: every command end to end
// through QProcess on a temporary database, with bad usage, bad JSON, unknown
// types, missing and unreadable databases, and tail --follow seeing rows that
// another process inserts.
#include "EventCodec.h"
#include "SampleEvents.h"
#include "TestSupport.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace Qt::StringLiterals;
using namespace eventdesk;

namespace {

struct Run {
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};

Run run(const QStringList &args, const QByteArray &input = {}, const QProcessEnvironment &env = {}, int timeoutMs = 60000)
{
    QProcess p;
    if (!env.isEmpty())
        p.setProcessEnvironment(env);
    p.start(QStringLiteral(EVENTDESK_BINARY), args);
    if (!input.isNull()) {
        p.write(input);
        p.closeWriteChannel();
    }
    if (!p.waitForFinished(timeoutMs))
        return {};
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2, p.readAllStandardOutput(), p.readAllStandardError()};
}

QByteArray line(EventKind kind, bool opt = true, const QString &world = u"w1"_s)
{
    return codec::encode(test::sampleEvent(kind, opt, world)) + '\n';
}

// One clear line on stderr, starting "eventdesk: ".
bool oneClearLine(const QByteArray &err)
{
    return err.startsWith("eventdesk: ") && err.count('\n') == 1;
}

} // namespace

class TestCli : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString db(const QString &name = u"cli.db"_s) { return m_dir.filePath(name); }

private Q_SLOTS:
    void versionAndHelp();
    void everyCommandHasHelp_data();
    void everyCommandHasHelp();
    void badUsage_data();
    void badUsage();
    void publishAndTail();
    void publishReportsBadLinesByNumber();
    void missingAndUnreadableDatabases();
    void exportAndImportRoundTrip();
    void importIsAllOrNothing();
    void importKeepsWhatItCarries();
    void timeFiltersCompareInstants();
    void idsAreUuidsAndNamesAreNames();
    void csvExport();
    void pruneWithDryRun();
    void statsAndChallenges();
    void tailFollowSeesAnotherProcess();
    void tailFollowSeesTheFileReplaced();
    void simulatePlaysASession();
    void replayThroughARunningServer();
    void serveWithBadTlsFiles();
    void serveLogsJsonLines();
};

void TestCli::versionAndHelp()
{
    Run r = run({u"--version"_s});
    QCOMPARE(r.exitCode, 0);
    QVERIFY2(r.out.startsWith("eventdesk "), r.out);
    r = run({u"--help"_s});
    QCOMPARE(r.exitCode, 0);
    for (const char *command : {"serve", "publish", "tail", "replay", "export", "import", "prune", "stats", "challenge", "simulate", "forward", "notify", "index", "name"})
        QVERIFY2(r.out.contains(command), command);
}

void TestCli::everyCommandHasHelp_data()
{
    QTest::addColumn<QString>("command");
    for (const char *c : {"serve", "publish", "tail", "replay", "export", "import", "prune", "stats", "challenge", "simulate", "forward", "notify", "index", "name"})
        QTest::newRow(c) << QString::fromLatin1(c);
}

void TestCli::everyCommandHasHelp()
{
    QFETCH(QString, command);
    const Run r = run({command, u"--help"_s});
    QCOMPARE(r.exitCode, 0);
    QVERIFY2(r.out.startsWith(QByteArray("Usage: eventdesk " + command.toLatin1())), r.out);
    QVERIFY(r.out.contains("--db"));
}

void TestCli::badUsage_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QByteArray>("says");
    QTest::newRow("unknown command") << QStringList{u"frobnicate"_s} << QByteArray("unknown command 'frobnicate'");
    QTest::newRow("unknown option") << QStringList{u"tail"_s, u"--colour"_s} << QByteArray("Unknown option 'colour'");
    QTest::newRow("bad format") << QStringList{u"tail"_s, u"--format"_s, u"xml"_s} << QByteArray("--format must be jsonl or table");
    QTest::newRow("unknown type") << QStringList{u"tail"_s, u"--type"_s, u"DragonSlain"_s} << QByteArray("unknown event type 'DragonSlain'");
    QTest::newRow("bad id") << QStringList{u"tail"_s, u"--from-id"_s, u"ten"_s} << QByteArray("--from-id must be a whole number");
    QTest::newRow("bad time") << QStringList{u"export"_s, u"--since"_s, u"yesterday-ish"_s} << QByteArray("--since");
    QTest::newRow("prune without cutoff") << QStringList{u"prune"_s} << QByteArray("--older-than or --before");
    QTest::newRow("prune bad age") << QStringList{u"prune"_s, u"--older-than"_s, u"soon"_s} << QByteArray("--older-than must look like");
    QTest::newRow("challenge without verb") << QStringList{u"challenge"_s} << QByteArray("'add' or 'list'");
    QTest::newRow("challenge add incomplete") << QStringList{u"challenge"_s, u"add"_s, u"--world"_s, u"w1"_s} << QByteArray("needs --world, --name and --difficulty");
    QTest::newRow("difficulty out of range") << QStringList{u"challenge"_s, u"add"_s, u"--world"_s, u"w"_s, u"--name"_s, u"n"_s, u"--difficulty"_s, u"99"_s} << QByteArray("--difficulty must be a whole number from 1 to 40");
    QTest::newRow("serve bad listen") << QStringList{u"serve"_s, u"--listen"_s, u"nowhere"_s} << QByteArray("--listen must be HOST:PORT");
    QTest::newRow("serve bad metrics listen") << QStringList{u"serve"_s, u"--metrics-listen"_s, u"9464"_s}
                                              << QByteArray("--metrics-listen must be HOST:PORT");
    QTest::newRow("serve bad log format") << QStringList{u"serve"_s, u"--log-format"_s, u"xml"_s}
                                          << QByteArray("--log-format must be text or json");
    QTest::newRow("notify without action") << QStringList{u"notify"_s} << QByteArray("notify needs add, list, remove, log or test");
    QTest::newRow("notify test without url") << QStringList{u"notify"_s, u"test"_s} << QByteArray("notify test needs the URL");
    QTest::newRow("tls cert without key") << QStringList{u"serve"_s, u"--tls-cert"_s, u"c.pem"_s} << QByteArray("--tls-cert and --tls-key go together");
    QTest::newRow("replay without range") << QStringList{u"replay"_s} << QByteArray("--from-id");
    QTest::newRow("simulate bad rate") << QStringList{u"simulate"_s, u"--rate"_s, u"-1"_s} << QByteArray("--rate");
    QTest::newRow("unknown bus") << QStringList{u"tail"_s, u"--bus"_s, u"kafka://x"_s} << QByteArray("unsupported --bus kafka://x");
    QTest::newRow("bad redis url") << QStringList{u"tail"_s, u"--bus"_s, u"redis://127.0.0.1:99999/0"_s} << QByteArray("bad --bus URL: port 99999 is out of range");
    QTest::newRow("redis url option") << QStringList{u"serve"_s, u"--bus"_s, u"redis://127.0.0.1/0?strem=x"_s} << QByteArray("unknown option \"strem\"");
    QTest::newRow("forward without redis") << QStringList{u"forward"_s} << QByteArray("forward needs --bus redis://");
    QTest::newRow("publish json and file") << QStringList{u"publish"_s, u"--json"_s, u"{}"_s, u"file.jsonl"_s} << QByteArray("not both");
}

void TestCli::badUsage()
{
    QFETCH(QStringList, args);
    QFETCH(QByteArray, says);
    const Run r = run(args + QStringList{u"--db"_s, db(u"usage.db"_s)});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains(says), r.err);
    QVERIFY2(oneClearLine(r.err), r.err);
}

void TestCli::publishAndTail()
{
    const QString path = db(u"pt.db"_s);
    Run r = run({u"publish"_s, u"--db"_s, path, u"--json"_s, QString::fromUtf8(line(EventKind::ChallengeResolved).trimmed())});
    QCOMPARE(r.exitCode, 0);
    QCOMPARE(r.out, QByteArray("1\n"));
    r = run({u"publish"_s, u"--db"_s, path},
            line(EventKind::StoryEventCreated) + line(EventKind::GenerationBatchProgress, false) + line(EventKind::SuggestionQueued, true, u"w2"_s));
    QCOMPARE(r.exitCode, 0);
    QCOMPARE(r.out, QByteArray("2\n3\n4\n"));

    r = run({u"tail"_s, u"--db"_s, path, u"--format"_s, u"jsonl"_s});
    QCOMPARE(r.exitCode, 0);
    const QList<QByteArray> rows = r.out.trimmed().split('\n');
    QCOMPARE(rows.size(), 4);
    const QJsonObject first = QJsonDocument::fromJson(rows.first()).object();
    QCOMPARE(first.value(u"id"_s).toInteger(), 1);
    QCOMPARE(first.value(u"event_type"_s).toString(), u"ChallengeResolved"_s);
    QCOMPARE(first.value(u"processed"_s).toBool(true), false);
    QVERIFY(first.value(u"processed_at"_s).isNull());
    QCOMPARE(first.value(u"event"_s).toObject().value(u"character_id"_s).toString(), u"pc7"_s);

    r = run({u"tail"_s, u"--db"_s, path, u"--world"_s, u"w1"_s, u"--format"_s, u"jsonl"_s});
    QCOMPARE(r.out.count('\n'), 2);
    r = run({u"tail"_s, u"--db"_s, path, u"--no-world"_s, u"--format"_s, u"jsonl"_s});
    QCOMPARE(r.out.count('\n'), 1);
    r = run({u"tail"_s, u"--db"_s, path, u"--type"_s, u"generation,suggestion"_s, u"--format"_s, u"jsonl"_s});
    QCOMPARE(r.out.count('\n'), 2);
    r = run({u"tail"_s, u"--db"_s, path, u"--from-id"_s, u"2"_s, u"--format"_s, u"jsonl"_s});
    QVERIFY(r.out.startsWith("{\"id\":3,"));
    r = run({u"tail"_s, u"--db"_s, path, u"--last"_s, u"1"_s});
    QVERIFY2(r.out.contains("Suggestion queued for npc_name"), r.out);
    QCOMPARE(r.out.count('\n'), 1);
}

void TestCli::publishReportsBadLinesByNumber()
{
    const QString path = db(u"bad.db"_s);
    const QByteArray input = line(EventKind::StoryEventCreated) + "{not json\n" + R"({"type":"DragonSlain"})" + "\n"
        + R"({"type":"ChallengeResolved","world_id":"w1"})" + "\n" + QByteArray(2 * 1024 * 1024, 'x') + "\n"
        + line(EventKind::NarrativeEventTriggered);
    const Run r = run({u"publish"_s, u"--db"_s, path}, input);
    QCOMPARE(r.exitCode, 1);
    QCOMPARE(r.out, QByteArray("1\n2\n"));  // the good lines are published
    QVERIFY2(r.err.contains("eventdesk: line 2: not valid JSON"), r.err);
    QVERIFY(r.err.contains("eventdesk: line 3: unknown event variant \"DragonSlain\""));
    QVERIFY(r.err.contains("eventdesk: line 4: missing required field \"challenge_name\""));
    QVERIFY(r.err.contains("eventdesk: line 5: longer than 1048576 bytes"));
    QCOMPARE(r.err.count('\n'), 4);
}

void TestCli::missingAndUnreadableDatabases()
{
    Run r = run({u"tail"_s, u"--db"_s, m_dir.filePath(u"nowhere/events.db"_s)});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("does not exist") && oneClearLine(r.err), r.err);
    r = run({u"tail"_s, u"--db"_s, db(u"never-made.db"_s)});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("there is no database at"), r.err);
    QFile junk(db(u"junk.db"_s));
    QVERIFY(junk.open(QIODevice::WriteOnly));
    junk.write("this is a shopping list, not a database\n");
    junk.close();
    r = run({u"stats"_s, u"--db"_s, junk.fileName()});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("is not an SQLite database") && oneClearLine(r.err), r.err);
    r = run({u"publish"_s, u"--db"_s, junk.fileName(), u"--json"_s, QString::fromUtf8(line(EventKind::StoryEventCreated))});
    QCOMPARE(r.exitCode, 1);
    QVERIFY(junk.open(QIODevice::ReadOnly));
    QCOMPARE(junk.readAll(), QByteArray("this is a shopping list, not a database\n"));
    r = run({u"import"_s, u"--db"_s, db(u"x.db"_s), m_dir.filePath(u"no-such-file.jsonl"_s)});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("cannot read"), r.err);
}

void TestCli::exportAndImportRoundTrip()
{
    const QString from = db(u"exp.db"_s), to = db(u"imp.db"_s);
    QByteArray input;
    for (EventKind k : test::allKinds())
        input += line(k);
    QCOMPARE(run({u"publish"_s, u"--db"_s, from}, input).exitCode, 0);
    const QString file = m_dir.filePath(u"out.jsonl"_s);
    Run r = run({u"export"_s, u"--db"_s, from, u"--output"_s, file});
    QCOMPARE(r.exitCode, 0);
    r = run({u"import"_s, u"--db"_s, to, file});
    QCOMPARE(r.exitCode, 0);
    QVERIFY2(r.out.contains("imported 11 events"), r.out);
    const Run a = run({u"export"_s, u"--db"_s, from});
    const Run b = run({u"export"_s, u"--db"_s, to});
    // Same events (ids and times are the new database's own).
    QList<QJsonObject> ea, eb;
    for (const QByteArray &l : a.out.trimmed().split('\n'))
        ea.append(QJsonDocument::fromJson(l).object().value(u"event"_s).toObject());
    for (const QByteArray &l : b.out.trimmed().split('\n'))
        eb.append(QJsonDocument::fromJson(l).object().value(u"event"_s).toObject());
    QCOMPARE(eb, ea);
    // Bare AppEvents import too.
    r = run({u"import"_s, u"--db"_s, to}, line(EventKind::StoryEventCreated));
    QCOMPARE(r.exitCode, 0);
}

void TestCli::importIsAllOrNothing()
{
    const QString path = db(u"aon.db"_s);
    const QByteArray input = line(EventKind::StoryEventCreated) + line(EventKind::StoryEventCreated) + "{\"type\":\"Nope\"}\n";
    Run r = run({u"import"_s, u"--db"_s, path}, input);
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("line 3: unknown event variant") && r.err.contains("nothing imported"), r.err);
    r = run({u"stats"_s, u"--db"_s, path, u"--format"_s, u"json"_s});
    // The database may not even exist; if it does, it is empty.
    QVERIFY(r.exitCode == 1 || QJsonDocument::fromJson(r.out).object().value(u"total"_s).toInteger() == 0);
}

namespace {
// Three rows in the export form, stamped as the engine stamps them.
QByteArray engineRows()
{
    return R"({"id":7,"event_type":"StoryEventCreated","created_at":"2026-11-26T03:04:05+00:00","processed":true,"processed_at":"2026-11-26T04:00:00.000Z","event":{"type":"StoryEventCreated","story_event_id":"s7","world_id":"w1","event_type":"dialogue"}})"
           "\n"
           R"({"id":8,"event_type":"StoryEventCreated","created_at":"2026-11-26T03:04:05.190137281+00:00","processed":false,"processed_at":null,"event":{"type":"StoryEventCreated","story_event_id":"s8","world_id":"w1","event_type":"dialogue"}})"
           "\n"
           R"({"id":9,"event_type":"StoryEventCreated","created_at":"2026-11-26T05:04:06.5+02:00","processed":false,"processed_at":null,"event":{"type":"StoryEventCreated","story_event_id":"s9","world_id":"w1","event_type":"dialogue"}})"
           "\n";
}
} // namespace

// export → import into an empty log gives the same rows: ids (--keep-ids),
// created_at as written, processed and processed_at.
void TestCli::importKeepsWhatItCarries()
{
    const QString a = db(u"keep-a.db"_s), b = db(u"keep-b.db"_s), c = db(u"keep-c.db"_s);
    Run r = run({u"import"_s, u"--db"_s, a, u"--keep-ids"_s}, engineRows());
    QCOMPARE(r.exitCode, 0);
    QVERIFY2(r.out == "imported 3 events (ids 7–9), created_at kept for 3, ids kept\n", r.out);
    const Run exported = run({u"export"_s, u"--db"_s, a, u"--format"_s, u"jsonl"_s});
    QCOMPARE(exported.exitCode, 0);
    const QList<QByteArray> in = engineRows().trimmed().split('\n'), out = exported.out.trimmed().split('\n');
    QCOMPARE(out.size(), 3);
    for (int i = 0; i < 3; ++i) {
        QJsonObject x = QJsonDocument::fromJson(in.at(i)).object(), y = QJsonDocument::fromJson(out.at(i)).object();
        for (const char *key : {"id", "created_at", "processed", "processed_at", "event_type"})
            QCOMPARE(y.value(QLatin1StringView(key)), x.value(QLatin1StringView(key)));
    }
    // The export imports again, row for row, into another empty log.
    r = run({u"import"_s, u"--db"_s, b, u"--keep-ids"_s}, exported.out);
    QCOMPARE(r.exitCode, 0);
    QCOMPARE(run({u"export"_s, u"--db"_s, b, u"--format"_s, u"jsonl"_s}).out, exported.out);
    // Not into a log that has events; nothing is added; one line says why.
    r = run({u"import"_s, u"--db"_s, b, u"--keep-ids"_s}, exported.out);
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.count('\n') == 1 && r.err.contains("empty log"), r.err);
    QCOMPARE(run({u"export"_s, u"--db"_s, b, u"--format"_s, u"jsonl"_s}).out, exported.out);
    // Without --keep-ids the ids are new, the rest is kept.
    r = run({u"import"_s, u"--db"_s, c}, engineRows());
    QCOMPARE(r.exitCode, 0);
    QVERIFY2(r.out.startsWith("imported 3 events (ids 1–3), created_at kept for 3"), r.out);
    const QJsonObject first = QJsonDocument::fromJson(run({u"export"_s, u"--db"_s, c, u"--format"_s, u"jsonl"_s}).out.split('\n').first()).object();
    QCOMPARE(first.value(u"created_at"_s).toString(), u"2026-11-26T03:04:05+00:00"_s);
    QCOMPARE(first.value(u"processed"_s).toBool(), true);
    // A bad created_at is one line, naming the line and the field.
    QByteArray bad = engineRows();
    bad.replace("2026-11-26T05:04:06.5+02:00", "yesterday");
    r = run({u"import"_s, u"--db"_s, c}, bad);
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.count('\n') == 1 && r.err.contains("line 3") && r.err.contains("created_at"), r.err);
}

// --since/--until compare instants: "+00:00", other offsets and nine fraction
// digits sort as the moments they are, not as text.
void TestCli::timeFiltersCompareInstants()
{
    const QString path = db(u"times.db"_s);
    QCOMPARE(run({u"import"_s, u"--db"_s, path, u"--keep-ids"_s}, engineRows()).exitCode, 0);
    const auto ids = [&](const QStringList &filter) {
        QList<qint64> out;
        const Run r = run(QStringList{u"tail"_s, u"--db"_s, path, u"--format"_s, u"jsonl"_s} + filter);
        for (const QByteArray &l : r.out.trimmed().split('\n'))
            if (!l.isEmpty())
                out.append(QJsonDocument::fromJson(l).object().value(u"id"_s).toInteger());
        return out;
    };
    QCOMPARE(ids({u"--since"_s, u"2026-11-26T03:04:05Z"_s}), (QList<qint64>{7, 8, 9}));
    QCOMPARE(ids({u"--since"_s, u"2026-11-26T03:04:05.123Z"_s}), (QList<qint64>{8, 9}));
    QCOMPARE(ids({u"--since"_s, u"2026-11-26T03:04:05.190137281Z"_s}), (QList<qint64>{8, 9}));
    QCOMPARE(ids({u"--since"_s, u"2026-11-26T03:04:05.190137282Z"_s}), (QList<qint64>{9}));
    QCOMPARE(ids({u"--until"_s, u"2026-11-26T03:04:05.190137281Z"_s}), (QList<qint64>{7}));
    QCOMPARE(ids({u"--since"_s, u"2026-11-26T04:04:06+01:00"_s, u"--until"_s, u"2026-11-26T03:04:06.500000001Z"_s}),
             (QList<qint64>{9}));
    QCOMPARE(ids({u"--since"_s, u"2026-11-26"_s}), (QList<qint64>{7, 8, 9}));
}

// Every id EventDesk makes is a UUID (the engine refuses others); people read
// display names. Other ids are warned about in a UUID log, refused with --strict-ids.
void TestCli::idsAreUuidsAndNamesAreNames()
{
    const QString path = db(u"uuids.db"_s);
    Run r = run({u"simulate"_s, u"--db"_s, path, u"--world"_s, u"Ravenmoor"_s, u"--players"_s, u"3"_s, u"--rate"_s, u"200"_s,
                 u"--duration"_s, u"1s"_s, u"--seed"_s, u"5"_s});
    QCOMPARE(r.exitCode, 0);
    const QRegularExpression uuid(u"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"_s);
    const Run tail = run({u"tail"_s, u"--db"_s, path, u"--format"_s, u"jsonl"_s});
    int checked = 0;
    for (const QByteArray &line : tail.out.trimmed().split('\n')) {
        const QJsonObject event = QJsonDocument::fromJson(line).object().value(u"event"_s).toObject();
        for (auto it = event.begin(); it != event.end(); ++it) {
            if (it.key().endsWith(u"_id"_s) && it.value().isString()) {
                QVERIFY2(uuid.match(it.value().toString()).hasMatch(), line.constData());
                ++checked;
            }
        }
    }
    QVERIFY(checked > 50);
    r = run({u"name"_s, u"list"_s, u"--db"_s, path});
    QCOMPARE(r.exitCode, 0);
    QVERIFY2(r.out.contains("  Ravenmoor\n") && r.out.contains("  Aria\n") && r.out.contains("  Cass\n"), r.out);
    // A name of one's own, and forgetting it.
    const QByteArray someId = "0b7e0000-5a1c-4c2e-9f3a-1d2e3f4a5b6c";
    QCOMPARE(run({u"name"_s, u"set"_s, u"--db"_s, path, QString::fromLatin1(someId), u"Mira Vale"_s}).exitCode, 0);
    QVERIFY(run({u"name"_s, u"list"_s, u"--db"_s, path}).out.contains(QByteArray(someId + "  Mira Vale\n")));
    QCOMPARE(run({u"name"_s, u"set"_s, u"--db"_s, path, QString::fromLatin1(someId), QString()}).exitCode, 0);
    QVERIFY(!run({u"name"_s, u"list"_s, u"--db"_s, path}).out.contains(someId));
    QCOMPARE(run({u"name"_s, u"set"_s, u"--db"_s, path, QString::fromLatin1(someId)}).exitCode, 2);
    QCOMPARE(run({u"name"_s, u"set"_s, u"--db"_s, path, u"--kind"_s, u"dragon"_s, QString::fromLatin1(someId), u"x"_s}).exitCode, 2);
    // Into this all-UUID log, "pc-7" is published with a warning; --strict-ids refuses it.
    const QByteArray plain = R"({"type":"StoryEventCreated","story_event_id":"s-1","world_id":"w-plain","event_type":"dialogue"})";
    r = run({u"publish"_s, u"--db"_s, path, u"--json"_s, QString::fromUtf8(plain)});
    QCOMPARE(r.exitCode, 0);
    QVERIFY2(r.err.contains("warning") && r.err.contains("world_id=w-plain") && r.err.contains("story_event_id=s-1"), r.err);
    r = run({u"publish"_s, u"--db"_s, path, u"--strict-ids"_s, u"--json"_s, QString::fromUtf8(plain)});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("not UUIDs") && r.out.isEmpty(), r.err);
    // A log that never used UUIDs gets no warning.
    const QString other = db(u"plain.db"_s);
    QCOMPARE(run({u"publish"_s, u"--db"_s, other, u"--json"_s, QString::fromUtf8(plain)}).exitCode, 0);
    r = run({u"publish"_s, u"--db"_s, other, u"--json"_s, QString::fromUtf8(plain)});
    QVERIFY2(!r.err.contains("warning"), r.err);
}

void TestCli::csvExport()
{
    const QString path = db(u"csv.db"_s);
    AppEvent tricky = events::StoryEventCreated{u"s"_s, u"w,1"_s, u"said \"hi\"\nthen left"_s};
    QCOMPARE(run({u"publish"_s, u"--db"_s, path}, codec::encode(tricky) + '\n').exitCode, 0);
    const Run r = run({u"export"_s, u"--db"_s, path, u"--format"_s, u"csv"_s});
    QCOMPARE(r.exitCode, 0);
    QVERIFY(r.out.startsWith("id,created_at,event_type,world_id,session_id,summary,processed,processed_at,payload\r\n"));
    QVERIFY2(r.out.contains(",\"w,1\","), r.out);
    QVERIFY2(r.out.contains("\"\"hi\"\""), r.out);
    // A CSV reader written elsewhere (Python's csv) reads one row back, the
    // newline inside its field and all, and its payload is the event again.
    const QString file = m_dir.filePath(u"tricky.csv"_s);
    QCOMPARE(run({u"export"_s, u"--db"_s, path, u"--format"_s, u"csv"_s, u"-o"_s, file}).exitCode, 0);
    QByteArray parsed;
    QCOMPARE(test::runPython(u"import csv,json,sys\n"
                             "rows=list(csv.reader(open(sys.argv[1],newline='',encoding='utf-8')))\n"
                             "print(len(rows)); print(json.dumps(rows[1][3])); print(rows[1][8])"_s,
                             {file}, &parsed), 0);
    const QList<QByteArray> lines = parsed.trimmed().split('\n');
    QCOMPARE(lines.value(0), QByteArray("2"));  // the header and one row, not split at the newline
    QCOMPARE(lines.value(1), QByteArray("\"w,1\""));
    const Result<AppEvent> back = codec::decode(lines.value(2));
    QVERIFY(back.ok());
    QCOMPARE(back.value(), tricky);
}

void TestCli::pruneWithDryRun()
{
    const QString path = db(u"prune.db"_s);
    QCOMPARE(run({u"publish"_s, u"--db"_s, path}, line(EventKind::StoryEventCreated) + line(EventKind::StoryEventCreated)).exitCode, 0);
    Run r = run({u"prune"_s, u"--db"_s, path, u"--before"_s, u"2999-01-01T00:00:00Z"_s, u"--force"_s, u"--dry-run"_s});
    QCOMPARE(r.exitCode, 0);
    QVERIFY2(r.out.contains("would archive and delete 2 events"), r.out);
    const QString archive = m_dir.filePath(u"arch.jsonl.gz"_s);
    // No row of this log was ever marked processed (as in the engine's own): age alone decides.
    r = run({u"prune"_s, u"--db"_s, path, u"--before"_s, u"2999-01-01T00:00:00Z"_s, u"--dry-run"_s});
    QVERIFY2(r.out.contains("age alone decides") && r.out.contains("would archive and delete 2 events"), r.out);
    r = run({u"prune"_s, u"--db"_s, path, u"--before"_s, u"2999-01-01T00:00:00Z"_s, u"--archive"_s, archive});
    QCOMPARE(r.exitCode, 0);
    QVERIFY2(r.out.contains("archived and deleted 2 events"), r.out);
    QVERIFY(QFile::exists(archive));
    r = run({u"prune"_s, u"--db"_s, path, u"--before"_s, u"2999-01-01T00:00:00Z"_s, u"--force"_s, u"--archive"_s, archive});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("exists already"), r.err);
}

void TestCli::statsAndChallenges()
{
    const QString path = db(u"stats.db"_s);
    QCOMPARE(run({u"publish"_s, u"--db"_s, path}, line(EventKind::ChallengeResolved) + line(EventKind::ChallengeResolved, true, u"w2"_s)).exitCode, 0);
    Run r = run({u"stats"_s, u"--db"_s, path, u"--format"_s, u"json"_s});
    QCOMPARE(r.exitCode, 0);
    const QJsonObject st = QJsonDocument::fromJson(r.out).object();
    QCOMPARE(st.value(u"total"_s).toInteger(), 2);
    QCOMPARE(st.value(u"per_world"_s).toObject().value(u"w2"_s).toInteger(), 1);
    QCOMPARE(st.value(u"challenges"_s).toArray().size(), 2);
    r = run({u"challenge"_s, u"add"_s, u"--db"_s, path, u"--world"_s, u"w1"_s, u"--name"_s, u"Pick the lock"_s, u"--difficulty"_s, u"15"_s});
    QCOMPARE(r.exitCode, 0);
    const QByteArray id = r.out.trimmed();
    QCOMPARE(id.size(), 36);
    r = run({u"challenge"_s, u"add"_s, u"--db"_s, path, u"--world"_s, u"w1"_s, u"--name"_s, u"Pick the lock"_s, u"--difficulty"_s, u"12"_s});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains("already has a challenge named"), r.err);
    r = run({u"challenge"_s, u"list"_s, u"--db"_s, path, u"--format"_s, u"jsonl"_s});
    QCOMPARE(QJsonDocument::fromJson(r.out.trimmed()).object().value(u"id"_s).toString().toLatin1(), id);
}

void TestCli::tailFollowSeesAnotherProcess()
{
    const QString path = db(u"follow.db"_s);
    QCOMPARE(run({u"publish"_s, u"--db"_s, path}, line(EventKind::StoryEventCreated)).exitCode, 0);
    QProcess tail;
    tail.start(QStringLiteral(EVENTDESK_BINARY), {u"tail"_s, u"--db"_s, path, u"--follow"_s, u"--format"_s, u"jsonl"_s,
                                                 u"--limit"_s, u"3"_s});
    QTRY_VERIFY_WITH_TIMEOUT(tail.canReadLine(), 10000);
    QVERIFY(tail.readLine().startsWith("{\"id\":1,"));
    // Another process (python's sqlite3, as the engine would) inserts a row; then eventdesk publishes one.
    const QByteArray event = codec::encode(test::sampleEvent(EventKind::ChallengeResolved, true));
    QCOMPARE(test::runPython(u"import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); "
                             "c.execute('INSERT INTO app_events(event_type,payload,created_at) VALUES(?,?,?)', "
                             "('ChallengeResolved', sys.argv[2], '2026-11-26T20:01:02.345Z')); c.commit()"_s,
                             {path, QString::fromUtf8(event)}), 0);
    QTRY_VERIFY_WITH_TIMEOUT(tail.canReadLine(), 10000);
    QVERIFY(tail.readLine().startsWith("{\"id\":2,\"event_type\":\"ChallengeResolved\""));
    QCOMPARE(run({u"publish"_s, u"--db"_s, path}, line(EventKind::NarrativeEventTriggered)).exitCode, 0);
    QTRY_COMPARE_WITH_TIMEOUT(tail.state(), QProcess::NotRunning, 10000);  // --limit 3 reached
    QCOMPARE(tail.exitCode(), 0);
    QVERIFY(tail.readLine().startsWith("{\"id\":3,"));
}

// The engine's database replaced by another file while tail follows it: said on
// stderr, then the new file is followed from its start, nothing skipped.
void TestCli::tailFollowSeesTheFileReplaced()
{
    const QString path = db(u"replaced.db"_s), other = db(u"replacement.db"_s);
    QCOMPARE(run({u"publish"_s, u"--db"_s, path}, line(EventKind::StoryEventCreated) + line(EventKind::StoryEventCreated)
                                                      + line(EventKind::StoryEventCreated)).exitCode, 0);
    QCOMPARE(run({u"publish"_s, u"--db"_s, other}, line(EventKind::ChallengeResolved) + line(EventKind::ChallengeResolved)).exitCode, 0);
    QProcess tail;
    tail.start(QStringLiteral(EVENTDESK_BINARY), {u"tail"_s, u"--db"_s, path, u"--follow"_s, u"--format"_s, u"jsonl"_s,
                                                 u"--limit"_s, u"5"_s});
    QByteArray before;
    QTRY_COMPARE_WITH_TIMEOUT((before += tail.readAllStandardOutput()).count('\n'), 3, 10000);
    // As a tool would: the new file renamed over the old one.
    QFile::remove(path + u"-wal"_s);
    QFile::remove(path + u"-shm"_s);
    QVERIFY(std::rename(QFile::encodeName(other).constData(), QFile::encodeName(path).constData()) == 0);
    QTRY_COMPARE_WITH_TIMEOUT(tail.state(), QProcess::NotRunning, 15000);  // --limit 5 reached with the new file's two
    QCOMPARE(tail.exitCode(), 0);
    const QByteArray err = tail.readAllStandardError(), out = tail.readAllStandardOutput();
    QVERIFY2(err.contains("was replaced by another file"), err.constData());
    const QList<QByteArray> lines = out.trimmed().split('\n');
    QCOMPARE(lines.size(), 2);
    QVERIFY2(lines.at(0).startsWith("{\"id\":1,\"event_type\":\"ChallengeResolved\"") && lines.at(1).startsWith("{\"id\":2,"),
             out.constData());
}

void TestCli::simulatePlaysASession()
{
    const QString path = db(u"sim.db"_s);
    const Run r = run({u"simulate"_s, u"--db"_s, path, u"--world"_s, u"w1"_s, u"--world"_s, u"w2"_s, u"--rate"_s, u"50"_s,
                       u"--duration"_s, u"2s"_s, u"--seed"_s, u"11"_s, u"--players"_s, u"3"_s});
    QCOMPARE(r.exitCode, 0);
    QVERIFY2(r.err.contains("actions played"), r.err);
    const Run st = run({u"stats"_s, u"--db"_s, path, u"--format"_s, u"json"_s});
    const QJsonObject types = QJsonDocument::fromJson(st.out).object().value(u"per_type"_s).toObject();
    for (const char *t : {"StoryEventCreated", "ChallengeResolved", "GenerationBatchQueued", "SuggestionQueued"})
        QVERIFY2(types.value(QString::fromLatin1(t)).toInteger() > 0, t);
}

void TestCli::replayThroughARunningServer()
{
    const QString path = db(u"replay.db"_s);
    QCOMPARE(run({u"publish"_s, u"--db"_s, path}, line(EventKind::ChallengeResolved) + line(EventKind::StoryEventCreated, true, u"w2"_s)).exitCode, 0);
    const QString token = u"0123456789abcdef0123456789abcdef"_s;
    QProcess serve;
    serve.start(QStringLiteral(EVENTDESK_BINARY), {u"serve"_s, u"--db"_s, path, u"--listen"_s, u"127.0.0.1:0"_s,
                                                  u"--dm-token"_s, token});
    QTRY_VERIFY_WITH_TIMEOUT(serve.canReadLine(), 10000);
    const QByteArray listening = serve.readLine().trimmed();
    QVERIFY2(listening.startsWith("eventdesk: listening on ws://127.0.0.1:"), listening);
    const QString hostPort = QString::fromLatin1(listening.mid(listening.indexOf("ws://") + 5));

    Run r = run({u"replay"_s, u"--listen"_s, hostPort, u"--dm-token"_s, token, u"--from-id"_s, u"1"_s, u"--to-id"_s, u"2"_s});
    QCOMPARE(r.exitCode, 0);
    QVERIFY2(r.out.contains("replayed 2 events"), r.out);
    r = run({u"replay"_s, u"--listen"_s, hostPort, u"--dm-token"_s, u"wrong-token-wrong-token"_s, u"--from-id"_s, u"1"_s});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("wrong DM token") && oneClearLine(r.err), r.err);
    r = run({u"replay"_s, u"--listen"_s, hostPort, u"--dm-token"_s, token, u"--from-id"_s, u"50"_s});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("no events with ids 50"), r.err);
    serve.terminate();
    QVERIFY(serve.waitForFinished(10000));
    QCOMPARE(serve.exitCode(), 0);
    // Nobody listening: a clear failure, not a hang.
    r = run({u"replay"_s, u"--listen"_s, hostPort, u"--dm-token"_s, token, u"--from-id"_s, u"1"_s, u"--timeout"_s, u"3"_s});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("cannot reach"), r.err);
}

void TestCli::serveWithBadTlsFiles()
{
    const QString missing = m_dir.filePath(u"no-such-cert.pem"_s);
    Run r = run({u"serve"_s, u"--db"_s, db(u"tls.db"_s), u"--listen"_s, u"127.0.0.1:0"_s, u"--tls-cert"_s, missing,
                 u"--tls-key"_s, missing});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("cannot read the TLS certificate") && oneClearLine(r.err), r.err);
    QFile junk(m_dir.filePath(u"junk.pem"_s));
    QVERIFY(junk.open(QIODevice::WriteOnly));
    junk.write("-----BEGIN CERTIFICATE-----\nnot really\n-----END CERTIFICATE-----\n");
    junk.close();
    r = run({u"serve"_s, u"--db"_s, db(u"tls.db"_s), u"--listen"_s, u"127.0.0.1:0"_s, u"--tls-cert"_s, junk.fileName(),
             u"--tls-key"_s, junk.fileName()});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("not valid PEM") && oneClearLine(r.err), r.err);
}

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"

// serve --log-format json: every stderr line one JSON object (time, level,
// category, message), the refusals included; secrets from the environment are
// used and never written.
void TestCli::serveLogsJsonLines()
{
    const QString path = db(u"jsonlog.db"_s);
    QProcess serve;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(u"EVENTDESK_JOIN_CODE"_s, u"ENVCODE77"_s);
    env.insert(u"EVENTDESK_DM_TOKEN"_s, u"envtoken-envtoken-envtoken"_s);
    serve.setProcessEnvironment(env);
    serve.start(QStringLiteral(EVENTDESK_BINARY), {u"serve"_s, u"--db"_s, path, u"--listen"_s, u"127.0.0.1:0"_s,
                                                  u"--log-format"_s, u"json"_s});
    QTRY_VERIFY_WITH_TIMEOUT(serve.canReadLine(), 10000);
    const QByteArray listening = serve.readLine().trimmed();
    QVERIFY2(listening.startsWith("eventdesk: listening on ws://127.0.0.1:"), listening);  // stdout stays the contract
    const QString hostPort = QString::fromLatin1(listening.mid(listening.indexOf("ws://") + 5));
    Run r = run({u"replay"_s, u"--listen"_s, hostPort, u"--dm-token"_s, u"wrong-token-wrong-token"_s, u"--from-id"_s, u"1"_s});
    QCOMPARE(r.exitCode, 1);
    r = run({u"replay"_s, u"--listen"_s, hostPort, u"--from-id"_s, u"1"_s}, {}, env);
    QVERIFY2(r.err.contains("no events"), r.err);  // the DM token from the environment was taken
    serve.terminate();
    QVERIFY(serve.waitForFinished(10000));
    const QByteArray err = serve.readAllStandardError();
    const QList<QByteArray> lines = err.trimmed().split('\n');
    QVERIFY(lines.size() >= 4);
    bool refusal = false, listeningLine = false;
    for (const QByteArray &line : lines) {
        QJsonParseError e{};
        const QJsonObject o = QJsonDocument::fromJson(line, &e).object();
        QVERIFY2(e.error == QJsonParseError::NoError && !o.isEmpty(), line);
        for (const char *key : {"time", "level", "category", "message"})
            QVERIFY2(o.value(QLatin1StringView(key)).isString(), line);
        QVERIFY2(QDateTime::fromString(o.value(u"time"_s).toString(), Qt::ISODateWithMs).isValid(), line);
        refusal |= o.value(u"message"_s).toString().contains(u"wrong DM token"_s);
        listeningLine |= o.value(u"message"_s).toString().startsWith(u"listening on ws://"_s);
    }
    QVERIFY2(refusal && listeningLine, err);
    QVERIFY2(!err.contains("ENVCODE77") && !err.contains("envtoken-envtoken"), err);
    // Metrics on a port someone else holds: a clear failure, not a server without them.
    const int taken = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in at{};
    at.sin_family = AF_INET;
    at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof at;
    QVERIFY(::bind(taken, reinterpret_cast<sockaddr *>(&at), sizeof at) == 0 && ::listen(taken, 1) == 0
            && ::getsockname(taken, reinterpret_cast<sockaddr *>(&at), &size) == 0);
    r = run({u"serve"_s, u"--db"_s, path, u"--listen"_s, u"127.0.0.1:0"_s, u"--metrics-listen"_s,
             u"127.0.0.1:%1"_s.arg(ntohs(at.sin_port))});
    ::close(taken);
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("cannot serve metrics on") && oneClearLine(r.err), r.err);
}
