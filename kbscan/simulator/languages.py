"""What reg.exe, sc.exe, wmic and cmd print on a Windows host in another display language.

Messages and labels are translated; exit codes, numbers, key names, value types, WMI
property names and sc's state names are not. Each language prints in its system's OEM
code page (what ``chcp`` reports), so a probe that assumed English sentences or code
page 437 cannot read these hosts. The texts follow the localized Windows Server 2003 /
2008 messages (close, not guaranteed letter for letter: kbscan must read them by shape).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    tag: str
    code_page: int
    reg_missing: str  # reg query of a missing key or value
    sc_missing: str  # sc query of a service that does not exist (1060)
    sc_denied: str  # sc query refused (5)
    state_label: str  # sc's STATE line label
    no_instances: str  # wmic with nothing to list
    wmic_installing: str  # wmic's first run
    chcp: str  # chcp's answer, {cp} for the number
    wmic_invalid: str = "ERROR:\r\r\nDescription = Invalid query"  # wmic's failed query

    def encode(self, text: str) -> bytes:
        return text.encode(f"cp{self.code_page}", "replace")


ENGLISH = Language(
    "en-US", 437,
    "ERROR: The system was unable to find the specified registry key or value.",
    "[SC] EnumQueryServicesStatus:OpenService FAILED 1060:\r\n\r\n"
    "The specified service does not exist as an installed service.",
    "[SC] OpenService FAILED 5:\r\n\r\nAccess is denied.",
    "STATE", "No Instance(s) Available.", "Please wait while WMIC is being installed.",
    "Active code page: {cp}",
)  # fmt: skip

LANGUAGES = {
    lang.tag: lang
    for lang in (
        ENGLISH,
        Language(
            "de-DE", 850,
            "FEHLER: Der angegebene Registrierungsschlüssel bzw. Wert wurde nicht gefunden.",
            "[SC] EnumQueryServicesStatus:OpenService FEHLER 1060:\r\n\r\n"
            "Der angegebene Dienst ist kein installierter Dienst.",
            "[SC] OpenService FEHLER 5:\r\n\r\nZugriff verweigert",
            "STATUS", "Keine Instanz(en) verfügbar.",
            "Bitte warten Sie, während WMIC installiert wird.", "Aktive Codepage: {cp}.",
            "FEHLER:\r\r\nBeschreibung = Ungültige Abfrage",
        ),
        Language(
            "fr-FR", 850,
            "ERREUR : le système n'a pas trouvé la clé ou la valeur de Registre spécifiée.",
            "[SC] EnumQueryServicesStatus:OpenService ÉCHEC 1060 :\r\n\r\n"
            "Le service spécifié n'existe pas en tant que service installé.",
            "[SC] OpenService ÉCHEC 5 :\r\n\r\nAccès refusé.",
            "ÉTAT", "Aucune instance disponible.",
            "Veuillez patienter pendant l'installation de WMIC.", "Page de codes active : {cp}",
            "ERREUR :\r\r\nDescription = Requête non valide",
        ),
        Language(
            "es-ES", 850,
            "ERROR: el sistema no pudo encontrar la clave o el valor del Registro especificado.",
            "[SC] EnumQueryServicesStatus:OpenService ERROR 1060:\r\n\r\n"
            "El servicio especificado no existe como servicio instalado.",
            "[SC] OpenService ERROR 5:\r\n\r\nAcceso denegado.",
            "ESTADO", "No hay instancias disponibles.",
            "Espere mientras se instala WMIC.", "Página de códigos activa: {cp}",
            "ERROR:\r\r\nDescripción = Consulta no válida",
        ),
        Language(
            "pt-BR", 850,
            "ERRO: o sistema não pôde localizar a chave ou o valor do Registro especificado.",
            "[SC] EnumQueryServicesStatus:OpenService FALHA 1060:\r\n\r\n"
            "O serviço especificado não existe como serviço instalado.",
            "[SC] OpenService FALHA 5:\r\n\r\nAcesso negado.",
            "ESTADO", "Nenhuma instância disponível.",
            "Aguarde enquanto o WMIC é instalado.", "Página de código ativa: {cp}",
            "ERRO:\r\r\nDescrição = Consulta inválida",
        ),
        Language(
            "ru-RU", 866,
            "ОШИБКА: Не удается найти указанный раздел или параметр в реестре.",
            "[SC] EnumQueryServicesStatus:OpenService: ошибка: 1060:\r\n\r\n"
            "Указанная служба не установлена.",
            "[SC] OpenService: ошибка: 5:\r\n\r\nОтказано в доступе.",
            "СОСТОЯНИЕ", "Экземпляры отсутствуют.",
            "Подождите, пока устанавливается WMIC.", "Текущая кодовая страница: {cp}",
            "ОШИБКА:\r\r\nОписание = Недопустимый запрос",
        ),
        Language(
            "ja-JP", 932,
            "エラー: 指定されたレジストリ キーまたは値が見つかりませんでした",
            "[SC] EnumQueryServicesStatus:OpenService 失敗 1060:\r\n\r\n"
            "指定されたサービスはインストールされたサービスとして存在しません。",
            "[SC] OpenService 失敗 5:\r\n\r\nアクセスが拒否されました。",
            "状態", "インスタンスがありません。",
            "WMIC がインストールされるまでお待ちください。", "現在のコード ページ: {cp}",
            "エラー:\r\r\n説明 = 無効なクエリです",
        ),
        Language(
            "zh-CN", 936,
            "错误: 系统找不到指定的注册表项或值。",
            "[SC] EnumQueryServicesStatus:OpenService 失败 1060:\r\n\r\n指定的服务未安装。",
            "[SC] OpenService 失败 5:\r\n\r\n拒绝访问。",
            "状态", "没有可用实例。", "请稍候，正在安装 WMIC。", "活动代码页: {cp}",
            "错误:\r\r\n描述 = 无效查询",
        ),
    )
}  # fmt: skip
