// The eventdesk executable as a newcomer meets it: --version, --help, bad usage.
#include <QProcess>
#include <QTest>

using namespace Qt::StringLiterals;

class TestCli : public QObject
{
    Q_OBJECT

private:
    struct Run {
        int exitCode = -1;
        QByteArray out;
        QByteArray err;
    };
    static Run run(const QStringList &args)
    {
        QProcess p;
        p.start(QStringLiteral(EVENTDESK_BINARY), args);
        if (!p.waitForFinished(60000))
            return {};
        return {p.exitCode(), p.readAllStandardOutput(), p.readAllStandardError()};
    }

private Q_SLOTS:
    void version();
    void help();
};

void TestCli::version()
{
    const Run r = run({u"--version"_s});
    QCOMPARE(r.exitCode, 0);
    QVERIFY2(r.out.startsWith("eventdesk "), r.out);
    QCOMPARE(r.out.count('\n'), 1);
}

void TestCli::help()
{
    const Run r = run({u"--help"_s});
    QCOMPARE(r.exitCode, 0);
    for (const char *command : {"publish", "tail", "export", "import", "prune", "stats", "challenge"})
        QVERIFY2(r.out.contains(command), command);
}

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
