#include "RecordDialog.h"
#include "Settings.h"

#include "Ids.h"
#include "PlainText.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QPushButton>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace eventdesk {

RecordDialog::RecordDialog(QWidget *parent)
    : QDialog(parent)
    , m_engine(new QLineEdit(Settings().recordEngine(), this))
    , m_world(new QComboBox(this))
    , m_spectate(new QLineEdit(this))
    , m_asDm(new QCheckBox(tr("Join as the DM"), this))
    , m_problem(plain::label(new QLabel(this)))
    , m_net(new QNetworkAccessManager(this))
{
    setWindowTitle(tr("Record an engine"));
    m_engine->setAccessibleName(tr("Engine address"));
    m_world->setEditable(true);
    m_world->setAccessibleName(tr("World to record"));
    m_world->lineEdit()->setPlaceholderText(tr("a world's UUID, or List worlds"));
    m_spectate->setPlaceholderText(tr("optional: a player character's name"));
    m_spectate->setAccessibleName(tr("Player character to spectate"));
    m_asDm->setToolTip(tr("The engine gives the DM's seat to the newest DM connection of a user: with your own "
                          "user id, your DM screen would stop getting updates. Spectating records the same table."));
    m_problem->setWordWrap(true);
    m_problem->setStyleSheet(u"color: #c0392b"_s);
    auto *list = new QPushButton(tr("List worlds"), this);
    connect(list, &QPushButton::clicked, this, &RecordDialog::listWorlds);
    auto *worldRow = new QHBoxLayout;
    worldRow->addWidget(m_world, 1);
    worldRow->addWidget(list);
    auto *form = new QFormLayout;
    form->addRow(tr("Engine"), m_engine);
    form->addRow(tr("World"), worldRow);
    form->addRow(tr("Spectate"), m_spectate);
    form->addRow(QString(), m_asDm);
    auto *note = plain::label(new QLabel(tr("Every message the engine sends to that world is kept in this log, as it "
                                            "came: filter, search, export and webhooks work on it. The engine keeps "
                                            "no history of its own."), this));
    note->setWordWrap(true);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, this);
    buttons->addButton(tr("Record"), QDialogButtonBox::AcceptRole);
    connect(buttons, &QDialogButtonBox::accepted, this, &RecordDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(note);
    layout->addLayout(form);
    layout->addWidget(m_problem);
    layout->addWidget(buttons);
}

RecordDialog::~RecordDialog() = default;

void RecordDialog::listWorlds()
{
    QUrl api(m_engine->text().trimmed());
    api.setScheme(api.scheme() == u"wss"_s ? u"https"_s : u"http"_s);
    api.setPath(u"/api/worlds"_s);
    QNetworkRequest request(api);
    request.setTransferTimeout(10000);
    QNetworkReply *reply = m_net->get(request);
    m_problem->setText(tr("Asking %1 for its worlds…").arg(api.toString()));
    connect(reply, &QNetworkReply::finished, this, [this, reply] {
        reply->deleteLater();
        const QJsonDocument doc = QJsonDocument::fromJson(reply->read(8 << 20));
        if (reply->error() != QNetworkReply::NoError || !doc.isArray()) {
            m_problem->setText(tr("No list of worlds from the engine: %1").arg(reply->errorString()));
            return;
        }
        m_world->clear();
        for (const QJsonValue &w : doc.array()) {
            const QJsonObject o = w.toObject();
            m_world->addItem(o.value("name"_L1).toString(), o.value("id"_L1).toString());
        }
        m_problem->setText(doc.array().isEmpty() ? tr("The engine has no world yet.") : QString());
    });
}

EngineRecorder::Options RecordDialog::options() const
{
    EngineRecorder::Options o;
    o.engine = QUrl(m_engine->text().trimmed());
    const int at = m_world->findText(m_world->currentText());
    o.worldId = at >= 0 && !m_world->itemData(at).toString().isEmpty() ? m_world->itemData(at).toString()
                                                                       : m_world->currentText().trimmed();
    o.spectate = m_spectate->text().trimmed();
    o.role = m_asDm->isChecked() ? EngineRecorder::Role::Dm : EngineRecorder::Role::Spectator;
    return o;
}

void RecordDialog::accept()
{
    const EngineRecorder::Options o = options();
    if (!o.engine.isValid() || (o.engine.scheme() != u"ws"_s && o.engine.scheme() != u"wss"_s) || o.engine.host().isEmpty()) {
        m_problem->setText(tr("The engine's address looks like ws://127.0.0.1:3000/ws."));
        m_engine->setFocus();
        return;
    }
    if (!ids::isUuid(o.worldId)) {
        m_problem->setText(tr("Pick a world (List worlds), or type its UUID."));
        m_world->setFocus();
        return;
    }
    Settings().setRecordEngine(m_engine->text().trimmed());
    QDialog::accept();
}

} // namespace eventdesk
