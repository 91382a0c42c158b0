// The log's filter without widgets (ui/LogFilter): every filter's query,
// changed() once per change, remembering per database, clearing; and the
// typed settings behind it (ui/Settings): defaults, and which keys belong to
// a database.
#include "EngineMessages.h"
#include "EventCatalog.h"
#include "LogFilter.h"
#include "Settings.h"
#include "Timestamp.h"

#include <QCoreApplication>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTest>

using namespace eventdesk;
using namespace Qt::StringLiterals;

Q_DECLARE_METATYPE(eventdesk::FilterState)
Q_DECLARE_METATYPE(eventdesk::EventQuery)

namespace {

const QDateTime Now = QDateTime(QDate(2026, 12, 8), QTime(20, 0), Qt::UTC);

QList<EventKind> allKindsBut(const QString &suffix)
{
    QList<EventKind> kinds;
    for (const VariantSpec &v : catalog::variants())
        if (!catalog::name(v.kind).endsWith(suffix))
            kinds.append(v.kind);
    return kinds;
}

QStringList engineOnlyTags()
{
    QStringList tags;
    for (const QString &t : engine::knownTags())
        if (!engine::appEventKind(t))
            tags.append(t);
    return tags;
}

} // namespace

class TestLogFilter : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);  // settings in a test folder of their own
        QCoreApplication::setOrganizationName(u"eventdesk-tests"_s);
        QCoreApplication::setApplicationName(u"tst_logfilter"_s);
    }

    // Each test starts from no settings at all (the one place a test reaches past Settings).
    void init() { QSettings().clear(); }

    void queries_data()
    {
        QTest::addColumn<FilterState>("state");
        QTest::addColumn<EventQuery>("expected");

        QTest::newRow("nothing: every row") << FilterState{} << EventQuery{};
        {
            FilterState f;
            f.world = u"w1"_s;
            EventQuery q;
            q.worlds = {u"w1"_s};
            QTest::newRow("a world") << f << q;
        }
        {
            FilterState f;
            f.world = QString::fromLatin1(NoWorldFilter);
            EventQuery q;
            q.worlds = {QString()};
            QTest::newRow("rows without a world") << f << q;
        }
        {
            FilterState f;
            f.kinds = {EventKind::ChallengeResolved, EventKind::StoryEventCreated};
            f.tags = {u"DialogueResponse"_s};
            EventQuery q;
            q.kinds = f.kinds;
            q.tags = f.tags;
            QTest::newRow("types and engine tags") << f << q;
        }
        {
            FilterState f;
            f.hideProgress = true;
            EventQuery q;
            q.kinds = allKindsBut(u"Progress"_s);
            q.tags = engineOnlyTags();
            QTest::newRow("no progress rows: the rest, the engine's messages kept") << f << q;
        }
        {
            FilterState f;
            f.hideProgress = true;
            f.kinds = {EventKind::GenerationBatchProgress, EventKind::GenerationBatchFailed};
            EventQuery q;
            q.kinds = {EventKind::GenerationBatchFailed};
            QTest::newRow("no progress rows among types picked") << f << q;
        }
        {
            FilterState f;
            f.text = u"cliff"_s;
            EventQuery q;
            q.text = u"cliff"_s;
            QTest::newRow("text") << f << q;
        }
        {
            FilterState f;
            f.text = u"ari"_s;
            EventQuery q;
            q.text = u"ari"_s;
            q.textAlso = {u"pc-aria"_s, u"pc-marius"_s};  // sorted; Bram is not named so
            QTest::newRow("text also finds what is named so") << f << q;
        }
        {
            FilterState f;
            f.sinceSeconds = 3600;
            EventQuery q;
            q.createdFrom = timestamp::nanos(Now.addSecs(-3600));
            QTest::newRow("the last hour") << f << q;
        }
        {
            FilterState f;
            f.world = u"w2"_s;
            f.kinds = {EventKind::ChallengeResolved};
            f.text = u"climb"_s;
            f.sinceSeconds = 900;
            EventQuery q;
            q.worlds = {u"w2"_s};
            q.kinds = {EventKind::ChallengeResolved};
            q.text = u"climb"_s;
            q.createdFrom = timestamp::nanos(Now.addSecs(-900));
            QTest::newRow("all at once") << f << q;
        }
    }

    void queries()
    {
        QFETCH(FilterState, state);
        QFETCH(EventQuery, expected);
        LogFilter filter;
        filter.setNames({{u"pc-aria"_s, u"Aria"_s}, {u"pc-marius"_s, u"Marius"_s}, {u"pc-bram"_s, u"Bram"_s}});
        filter.setState(state);
        QCOMPARE(filter.queryAt(Now), expected);
    }

    void changedOncePerChange()
    {
        LogFilter filter;
        QSignalSpy changed(&filter, &LogFilter::changed);
        filter.setWorld(u"w1"_s);
        QCOMPARE(changed.size(), 1);
        QCOMPARE(changed.last().at(0).value<EventQuery>().worlds, QStringList{u"w1"_s});
        filter.setWorld(u"w1"_s);  // the same: nothing to do
        filter.setText(u"  w1  "_s);
        filter.setText(u"w1"_s);   // trimmed, the same
        QCOMPARE(changed.size(), 2);
        QCOMPARE(filter.state().text, u"w1"_s);
        filter.setSince(3600);
        filter.setSince(3600);     // "the last hour" has moved on: asked again, it says so
        QCOMPARE(changed.size(), 4);
        filter.setTypes({EventKind::ChallengeResolved}, {});
        filter.setHideProgress(true);
        QCOMPARE(changed.size(), 6);
        filter.clear();
        QCOMPARE(changed.size(), 7);
        QVERIFY(filter.state().isClear());
        QCOMPARE(changed.last().at(0).value<EventQuery>(), EventQuery{});
        filter.clear();
        QCOMPARE(changed.size(), 7);
    }

    void rememberedPerDatabase()
    {
        FilterState campaignA;
        campaignA.world = u"ravenmoor"_s;
        campaignA.kinds = {EventKind::ChallengeResolved};
        campaignA.tags = {u"DialogueResponse"_s, u"HarbourBellRang"_s};  // the second: no tag this EventDesk knows
        campaignA.hideProgress = true;
        campaignA.text = u"cliff"_s;
        campaignA.sinceSeconds = 4 * 3600;
        {
            LogFilter filter;
            filter.restore(u"/games/a.db"_s);
            QVERIFY(filter.state().isClear());
            filter.setState(campaignA);
        }
        {
            LogFilter other;
            QSignalSpy changed(&other, &LogFilter::changed);
            other.restore(u"redis://127.0.0.1:6379/0?stream=b"_s);
            QCOMPARE(changed.size(), 1);
            QVERIFY2(other.state().isClear(), "another database's filter is its own");
            other.setWorld(u"sunken-isles"_s);
        }
        LogFilter again;
        again.restore(u"/games/a.db"_s);
        FilterState known = campaignA;
        known.tags = {u"DialogueResponse"_s};  // a tag no engine this EventDesk knows sends is not kept
        QCOMPARE(again.state(), known);
        again.clear();
        LogFilter cleared;
        cleared.restore(u"/games/a.db"_s);
        QVERIFY2(cleared.state().isClear(), "clearing is remembered too");
        LogFilter b;
        b.restore(u"redis://127.0.0.1:6379/0?stream=b"_s);
        QCOMPARE(b.state().world, u"sunken-isles"_s);
    }

    void settingsDefaults()
    {
        const Settings dm;
        QVERIFY(!dm.hasWindowGeometry());
        QVERIFY(dm.recentDatabases().isEmpty());
        QVERIFY(!dm.serveMetrics());
        QCOMPARE(dm.notifyKinds(), (QList<EventKind>{EventKind::GenerationBatchFailed, EventKind::SuggestionFailed}));
        QCOMPARE(dm.recordEngine(), u"ws://127.0.0.1:3000/ws"_s);
        QVERIFY(dm.filters().isClear());
        QVERIFY(dm.databaseGroup().isEmpty());
    }

    void settingsKeys()
    {
        Settings dm;
        for (int i = 0; i < 10; ++i)
            dm.addRecentDatabase(u"/games/%1.db"_s.arg(i));
        dm.addRecentDatabase(u"/games/3.db"_s);
        const QStringList recent = dm.recentDatabases();
        QCOMPARE(recent.size(), 8);
        QCOMPARE(recent.first(), u"/games/3.db"_s);
        QCOMPARE(recent.count(u"/games/3.db"_s), 1);
        dm.setServeMetrics(true);
        dm.setNotifyKinds({EventKind::ChallengeResolved});
        QVERIFY(Settings().serveMetrics());
        QCOMPARE(Settings().notifyKinds(), QList<EventKind>{EventKind::ChallengeResolved});

        // The layout: a database's own, or the last one used anywhere.
        Settings a(u"/games/a.db"_s), b(u"/games/b.db"_s);
        QVERIFY(a.databaseGroup().startsWith(u"filters/"_s) && a.databaseGroup() != b.databaseGroup());
        QCOMPARE(Settings(u"/games/a.db"_s).databaseGroup(), a.databaseGroup());
        dm.setWindowState("last used");
        QCOMPARE(a.layout(), QByteArray("last used"));
        a.setLayout("a's");
        a.setColumns("a's columns");
        QCOMPARE(a.layout(), QByteArray("a's"));
        QCOMPARE(b.layout(), QByteArray("last used"));
        QVERIFY(b.columns().isEmpty());
        QCOMPARE(Settings(u"/games/a.db"_s).columns(), QByteArray("a's columns"));
    }
};

QTEST_GUILESS_MAIN(TestLogFilter)
#include "tst_logfilter.moc"
