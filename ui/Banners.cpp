#include "Banners.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace eventdesk {

Banner::Banner(Tone tone, const QString &buttonText, QWidget *parent)
    : QFrame(parent)
    , m_text(new QLabel(this))
    , m_button(new QPushButton(buttonText, this))
{
    // Dark text on a pale tint: AA contrast in light themes; the frame keeps it apart in dark ones.
    setFrameShape(QFrame::StyledPanel);
    setAutoFillBackground(true);
    QPalette p = palette();
    p.setColor(QPalette::Window, tone == Tone::Notice ? QColor(0xff, 0xf3, 0xcd) : QColor(0xe8, 0xf0, 0xfe));
    p.setColor(QPalette::WindowText, tone == Tone::Notice ? QColor(0x5c, 0x44, 0x00) : QColor(0x1a, 0x3a, 0x6b));
    setPalette(p);
    m_text->setWordWrap(true);
    m_text->setTextFormat(Qt::RichText);
    m_text->setTextInteractionFlags(Qt::LinksAccessibleByMouse | Qt::LinksAccessibleByKeyboard);
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(8, 3, 4, 3);
    layout->addWidget(m_text, 1);
    layout->addWidget(m_button);
    connect(m_button, &QPushButton::clicked, this, &Banner::buttonClicked);
    connect(m_text, &QLabel::linkActivated, this, &Banner::linkActivated);
}

void Banner::setText(const QString &text) { m_text->setText(text); }

QString Banner::text() const { return m_text->text(); }

EmptyState::EmptyState(QWidget *parent)
    : QFrame(parent)
    , m_title(new QLabel(this))
    , m_advice(new QLabel(this))
{
    QFont big = m_title->font();
    big.setPointSizeF(big.pointSizeF() * 1.3);
    big.setBold(true);
    m_title->setFont(big);
    m_title->setAlignment(Qt::AlignCenter);
    m_advice->setAlignment(Qt::AlignCenter);
    m_advice->setWordWrap(true);
    m_advice->setTextFormat(Qt::RichText);
    m_advice->setTextInteractionFlags(Qt::LinksAccessibleByMouse | Qt::LinksAccessibleByKeyboard);
    auto *layout = new QVBoxLayout(this);
    layout->addStretch();
    layout->addWidget(m_title);
    layout->addWidget(m_advice);
    layout->addStretch();
    connect(m_advice, &QLabel::linkActivated, this, &EmptyState::linkActivated);
}

void EmptyState::setContent(const QString &title, const QString &adviceHtml)
{
    m_title->setText(title);
    m_advice->setText(adviceHtml);
}

QString EmptyState::title() const { return m_title->text(); }

} // namespace eventdesk
