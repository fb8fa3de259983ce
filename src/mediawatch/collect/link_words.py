"""The words and URL patterns the link rule (:mod:`mediawatch.collect.links`) reads, in the languages of the sites
it meets. Vocabularies are lower case and are matched against whole path segments, or their hyphen/underscore
words; host and CSS-class vocabularies against host labels and class-name words."""

from __future__ import annotations

import re


def _vocabulary(words: str) -> frozenset[str]:
    return frozenset(words.split())


FILE_EXTENSIONS = _vocabulary(
    "pdf jpg jpeg png gif svg webp avif ico mp3 mp4 m4a ogg webm avi mov zip rar 7z gz doc docx xls xlsx"
    " ppt pptx odt xml rss atom json css js txt csv apk exe dmg"
)
FILE_SEGMENTS = frozenset({"file", "files", "attachment", "attachments"})
PAGE_SUFFIXES = re.compile(r"\.(?:s?html?|php\d?|aspx?|jsp|cfm)$", re.IGNORECASE)
SOCIAL_DOMAINS = _vocabulary(
    "facebook.com fb.com fb.me twitter.com x.com t.co t.me telegram.me telegram.org vk.com vk.ru ok.ru"
    " instagram.com youtube.com youtu.be tiktok.com linkedin.com whatsapp.com wa.me pinterest.com"
    " reddit.com weibo.com weibo.cn douyin.com bilibili.com wechat.com weixin.qq.com threads.net"
    " snapchat.com viber.com line.me max.ru dzen.ru zen.yandex.ru"
)
SHARE_PATH = re.compile(r"/(?:share|sharer|intent/tweet|send|shareArticle)(?:\.php)?(?:/|$)", re.IGNORECASE)
AD_DOMAINS = _vocabulary(
    "doubleclick.net googlesyndication.com googleadservices.com adfox.ru adriver.ru criteo.com criteo.net"
    " taboola.com outbrain.com mgid.com adnxs.com smartadserver.com yandexadexchange.net begun.ru"
    " directadvert.ru relap.io smi2.ru smi2.net lentainform.com lentainform.net adsterra.com"
)
AD_HOSTS = re.compile(r"^(?:an\.yandex\.ru|cpro\.baidu\.com|pos\.baidu\.com|ads?\.|adv\.|banners?\.)")
AD_WORDS = _vocabulary(
    "ad ads adv advert adverts advertising advertisement advertise reklama reklam reklamy reklamodatelyam"
    " jarnama zharnama banner banners sponsor sponsored sponsorlu promo guanggao adfox dfp"
)
AD_HOST_LABELS = _vocabulary("ad ads adv banner banners")
LOGIN_HOST_LABELS = _vocabulary("passport login auth sso id account")
REDIRECT_PARAMS = _vocabulary("url u to link target")
REDIRECT_PATH = re.compile(r"^/(?:go|out|away|click|redirect|redir|jump)(?:\.php)?/?$", re.IGNORECASE)
LOGIN_WORDS = _vocabulary(
    "login logout log-in signin sign-in signup sign-up register registration auth oauth sso account"
    " my-account myaccount profile lk cabinet kabinet vhod voiti kiru tirkelu giris girisi uye kayit"
    " wp-login wp-admin passport"
)
TAG_WORDS = _vocabulary(
    "tag tags teg tegi тег теги etiket etiketler label labels keyword keywords hashtag hashtags topic"
    " topics тема темы"
)
AUTHOR_WORDS = _vocabulary(
    "author authors avtor avtory автор авторы yazar yazarlar columnist columnists journalist journalists"
)
SECTION_WORDS = _vocabulary(
    "category categories kategori kategoriya rubric rubrics rubrika rubriki razdel section sections"
    " special specials spec specproekty projects proekty archive archives arhiv arsiv архив рубрика search"
    " poisk events event afisha calendar documents dokumenty downloads download"
)
PAGINATION_PARAMS = re.compile(r"^(?:page|pg|paged|sayfa|strana|start|offset|pagen_\d+)$", re.IGNORECASE)
ID_PARAMS = _vocabulary(
    "id p aid nid newsid news_id article_id articleid story storyid item_id post postid doc docid"
)
NON_ITEM_ID_PREFIXES = _vocabulary("user session cat category section rubric tag author page region city")
PRINT_PARAMS = _vocabulary("print tmpl printable output")
PRINT_WORDS = _vocabulary("print printable yazdir yazdır pechat versiya-dlya-pechati")  # /haber_yazdir.php
ID_VALUE = re.compile(r"^\d{2,}(?:$|[:-])")  # 87, or Joomla's 87:slug / 87-slug
OPAQUE_ID = re.compile(r"(?=(?:[a-z]*\d){2})(?=[a-z0-9]*[a-z])[a-z0-9]{4,12}")  # /n/3k7q: 2+ digits
MORE_ENDPOINTS = _vocabulary("more load-more loadmore ajax lazy")
LANGUAGE_ROOT = re.compile(r"^[a-z]{2,3}(?:[-_][a-z]{2,4})?$")
YEAR = re.compile(r"^(?:199\d|20[0-3]\d)$")
COMPACT_DATE = re.compile(r"^(?:199\d|20[0-3]\d)[-_]?(?:0[1-9]|1[0-2])(?:[-_]?(?:0[1-9]|[12]\d|3[01]))?$")
MONTH_OR_DAY = re.compile(r"^(?:0?[1-9]|[12]\d|3[01])(?:-(?:0?[1-9]|[12]\d|3[01]))?$")
DIGIT_RUN = re.compile(r"\d+")
WORD = re.compile(r"\w+")
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
SPLIT_SLUG = re.compile(r"[-_+.\s]+")
CLASS_SPLIT = re.compile(r"[\s_-]+")
NAV_TOKENS = _vocabulary(
    "nav navbar navigation menu submenu breadcrumb breadcrumbs pagination pager paging sitemap"
)
AD_TOKENS = _vocabulary(
    "ad ads adv advert advertising banner reklama reklam sponsor sponsored adfox commercial jarnama"
)
CARD_WORDS = _vocabulary("card entry post article item news teaser tile story widget box panel modal")
NAV_ROLES = _vocabulary("navigation banner contentinfo menu menubar")
HEADLINE_TOKENS = _vocabulary("title headline heading")
HEADLINE_UNITS = 4.0
