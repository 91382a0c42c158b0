// The Redis bus URL (DESIGN §8): what parses, what is refused and why, and
// that no error repeats a password. Needs no redis-server.
#include "RedisEventStore.h"
#include "TestSupport.h"

#include <QTest>

using namespace eventdesk;
using namespace eventdesk::test;
using namespace Qt::StringLiterals;

class TestRedisUrl : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void parseUrl_data()
    {
        QTest::addColumn<QString>("url");
        QTest::addColumn<bool>("valid");
        QTest::addColumn<QString>("host");
        QTest::addColumn<int>("port");
        QTest::addColumn<int>("db");
        QTest::addColumn<QString>("password");
        QTest::addColumn<QString>("stream");

        QTest::newRow("defaults") << u"redis://"_s << true << u"127.0.0.1"_s << 6379 << 0 << QString() << u"app_events"_s;
        QTest::newRow("design example") << u"redis://127.0.0.1:6379/0"_s << true << u"127.0.0.1"_s << 6379 << 0 << QString() << u"app_events"_s;
        QTest::newRow("everything") << u"redis://:s3cret@localhost:7000/3?stream=game.events"_s << true << u"localhost"_s << 7000 << 3
                                    << u"s3cret"_s << u"game.events"_s;
        QTest::newRow("encoded password") << u"redis://:p%40ss%3Aw%2Fd@127.0.0.1:6379/0"_s << true << u"127.0.0.1"_s << 6379 << 0
                                          << u"p@ss:w/d"_s << u"app_events"_s;
        QTest::newRow("user and password") << u"redis://dm:pw@127.0.0.1/1"_s << true << u"127.0.0.1"_s << 6379 << 1 << u"pw"_s << u"app_events"_s;
        QTest::newRow("ipv6") << u"redis://[::1]:6380/0"_s << true << u"::1"_s << 6380 << 0 << QString() << u"app_events"_s;

        const auto bad = [](const char *name, const QString &url) {
            QTest::newRow(name) << url << false << QString() << 0 << 0 << QString() << QString();
        };
        bad("empty", QString());
        bad("not redis", u"http://127.0.0.1:6379"_s);
        bad("tls", u"rediss://127.0.0.1:6379"_s);
        bad("port too big", u"redis://127.0.0.1:70000/0"_s);
        bad("port zero", u"redis://127.0.0.1:0/0"_s);
        bad("port empty", u"redis://127.0.0.1:/0"_s);
        bad("port not a number", u"redis://127.0.0.1:abc/0"_s);
        bad("db not a number", u"redis://127.0.0.1:6379/zero"_s);
        bad("db negative", u"redis://127.0.0.1:6379/-1"_s);
        bad("db path", u"redis://127.0.0.1:6379/0/1"_s);
        bad("unknown option", u"redis://127.0.0.1:6379/0?strem=x"_s);
        bad("empty stream", u"redis://127.0.0.1:6379/0?stream="_s);
        bad("long stream", u"redis://127.0.0.1:6379/0?stream="_s + QString(201, u'x'));
        bad("bad maxlen", u"redis://127.0.0.1:6379/0?maxlen=-5"_s);
        bad("bad timeout", u"redis://127.0.0.1:6379/0?timeout_ms=5"_s);
        bad("user without password", u"redis://dm@127.0.0.1:6379/0"_s);
        bad("space", u"redis://127.0.0.1:6379/0?stream=a b"_s);
        bad("newline", u"redis://127.0.0.1:6379/0\r\nFLUSHALL"_s);
        bad("oversized", u"redis://127.0.0.1:6379/0?stream="_s + QString(5000, u'x'));
        bad("garbage host", u"redis://x:1:2"_s);
    }

    void parseUrl()
    {
        QFETCH(QString, url);
        QFETCH(bool, valid);
        const Result<RedisEndpoint> ep = RedisEndpoint::parse(url);
        QCOMPARE(ep.ok(), valid);
        if (!valid) {
            QVERIFY(ep.error().message.startsWith(u"bad --bus URL"_s));
            QVERIFY2(!ep.error().message.contains(u"s3cret"_s), "an error never repeats the password");
            return;
        }
        QFETCH(QString, host);
        QFETCH(int, port);
        QFETCH(int, db);
        QFETCH(QString, password);
        QFETCH(QString, stream);
        QCOMPARE(ep->host, host);
        QCOMPARE(int(ep->port), port);
        QCOMPARE(ep->db, db);
        QCOMPARE(ep->password, password);
        QCOMPARE(ep->stream, stream);
        QVERIFY(!ep->display().contains(u"s3cret"_s));
    }

};

QTEST_GUILESS_MAIN(TestRedisUrl)
#include "tst_redisurl.moc"
