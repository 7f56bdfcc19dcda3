"""The demo cluster's fixed material: organisations, names, titles, themes, places.

Everything here is fictional. Addresses live on reserved example domains (RFC 2606:
``*.example.com``, ``*.example.org``, ``*.example.net``) so that a demo campaign can
never reach a real person.
"""

from __future__ import annotations

from typing import NamedTuple

from crm.models import OrganisationKind as K
from crm.models import TargetGroup as T

CLUSTER = "AgriNova Méditerranée"
CLUSTER_DOMAIN = "agrinova.example.org"
PERSONAL_DOMAIN = "mail.example.net"  # project holders without an organisation
MARKER_TAG = "demo"  # on every demo contact: how `crm demo` recognises its own database
TIMEZONE = "Europe/Paris"
HOME = "Maison de l'agriculture, 12 avenue du Jardin, Montpellier"
ONLINE = "https://visio.example.net/agrinova/"

THEMES = ("agrifood", "water", "digital", "export", "packaging", "organic", "olive-oil",
          "dairy", "plant-protein", "logistics", "funding", "training")


class OrgSpec(NamedTuple):
    name: str
    kind: K
    sector: str
    city: str
    region: str
    country: str
    size: str
    tags: tuple[str, ...]
    startup: bool = False


def _o(name: str, kind: K, sector: str, city: str, region: str, country: str, size: str,
       tags: str, startup: bool = False) -> OrgSpec:
    return OrgSpec(name, kind, sector, city, region, country, size, tuple(tags.split()), startup)


ORGANISATIONS: tuple[OrgSpec, ...] = (
    _o(CLUSTER, K.OTHER, "cluster agroalimentaire", "Montpellier", "Occitanie", "FR", "micro", "agrifood"),
    # member and prospect companies
    _o("Sud Semences", K.COMPANY, "semences et plants", "Montpellier", "Occitanie", "FR", "medium", "agrifood export"),
    _o("Irrigalia", K.COMPANY, "irrigation de précision", "Nîmes", "Occitanie", "FR", "small", "water digital"),
    _o("Les Vergers du Lez", K.COMPANY, "arboriculture fruitière", "Lunel", "Occitanie", "FR", "small", "agrifood organic"),
    _o("Oléa Provence", K.COMPANY, "huile d'olive", "Aix-en-Provence", "Provence-Alpes-Côte d'Azur", "FR", "small", "olive-oil export"),
    _o("DataChamp", K.COMPANY, "agriculture numérique", "Montpellier", "Occitanie", "FR", "micro", "digital"),
    _o("BioPack Solutions", K.COMPANY, "emballages biosourcés", "Agen", "Nouvelle-Aquitaine", "FR", "medium", "packaging"),
    _o("Fromagerie des Garrigues", K.COMPANY, "produits laitiers", "Béziers", "Occitanie", "FR", "small", "dairy agrifood"),
    _o("AgroDrone Systems", K.COMPANY, "drones agricoles", "Toulouse", "Occitanie", "FR", "micro", "digital"),
    _o("Coopérative Terres du Sud", K.COMPANY, "coopérative céréalière", "Béziers", "Occitanie", "FR", "large", "agrifood"),
    _o("NutriVeg", K.COMPANY, "protéines végétales", "Lyon", "Auvergne-Rhône-Alpes", "FR", "small", "plant-protein agrifood"),
    _o("Argan Souss Coop", K.COMPANY, "huile d'argan", "Taroudant", "Souss-Massa", "MA", "small", "export organic"),
    _o("Atlas Primeurs", K.COMPANY, "fruits et légumes à l'export", "Agadir", "Souss-Massa", "MA", "large", "export logistics"),
    _o("Maghreb AgriTech", K.COMPANY, "agriculture numérique", "Casablanca", "Casablanca-Settat", "MA", "small", "digital water"),
    _o("Domaine Zitoun", K.COMPANY, "huile d'olive", "Sfax", "Sfax", "TN", "medium", "olive-oil export"),
    _o("Oasis Dattes", K.COMPANY, "dattes et produits transformés", "Kébili", "Kébili", "TN", "medium", "export agrifood"),
    _o("Hydro Cap Bon", K.COMPANY, "irrigation goutte-à-goutte", "Nabeul", "Nabeul", "TN", "small", "water"),
    _o("Conserverie du Cap Bon", K.COMPANY, "conserves de légumes", "Nabeul", "Nabeul", "TN", "medium", "agrifood packaging"),
    _o("Meunerie Mosane", K.COMPANY, "meunerie", "Namur", "Wallonie", "BE", "medium", "agrifood"),
    _o("FreshLogix", K.COMPANY, "logistique du froid", "Bruxelles", "Bruxelles-Capitale", "BE", "small", "logistics export"),
    _o("Érablière Boréale", K.COMPANY, "sirop d'érable", "Québec", "Québec", "CA", "small", "agrifood export"),
    _o("Laiterie de la Bekaa", K.COMPANY, "produits laitiers", "Zahlé", "Bekaa", "LB", "small", "dairy"),
    _o("Cosecha Almeriense", K.COMPANY, "serres et maraîchage", "Almería", "Andalucía", "ES", "medium", "water export"),
    _o("Puglia Olearia", K.COMPANY, "huile d'olive", "Bari", "Puglia", "IT", "medium", "olive-oil"),
    # start-ups (project holders)
    _o("SoilSense", K.COMPANY, "capteurs de sol", "Montpellier", "Occitanie", "FR", "micro", "digital water", True),
    _o("GreenFerm", K.COMPANY, "biointrants", "Kénitra", "Rabat-Salé-Kénitra", "MA", "micro", "organic", True),
    _o("AquaSmart Tunisia", K.COMPANY, "gestion connectée de l'eau", "Tunis", "Tunis", "TN", "micro", "water digital", True),
    _o("Insectéine", K.COMPANY, "protéines d'insectes", "Montpellier", "Occitanie", "FR", "micro", "plant-protein", True),
    _o("KoolBox", K.COMPANY, "chambres froides solaires", "Agadir", "Souss-Massa", "MA", "micro", "logistics", True),
    # research and higher education
    _o("Institut méditerranéen d'agronomie appliquée", K.RESEARCH_CENTRE, "recherche agronomique", "Montpellier", "Occitanie", "FR", "large", "water agrifood"),
    _o("Centre de recherche sur l'eau et les sols arides", K.RESEARCH_CENTRE, "eau et sols", "Tunis", "Tunis", "TN", "medium", "water"),
    _o("Centre d'innovation agroalimentaire du Souss", K.RESEARCH_CENTRE, "transformation agroalimentaire", "Agadir", "Souss-Massa", "MA", "medium", "agrifood"),
    _o("Centre wallon d'essais agronomiques", K.RESEARCH_CENTRE, "essais variétaux", "Gembloux", "Wallonie", "BE", "medium", "agrifood"),
    _o("Université Méditerranée Sud", K.UNIVERSITY, "enseignement supérieur et recherche", "Montpellier", "Occitanie", "FR", "large", "training"),
    _o("École supérieure d'agronomie du Saïs", K.UNIVERSITY, "formation d'ingénieurs agronomes", "Meknès", "Fès-Meknès", "MA", "medium", "training"),
    _o("Institut supérieur d'oléiculture de Sfax", K.UNIVERSITY, "oléiculture", "Sfax", "Sfax", "TN", "medium", "training olive-oil"),
    _o("Université Boréale du Québec", K.UNIVERSITY, "sciences des aliments", "Québec", "Québec", "CA", "large", "training"),
    # the State and public institutions, local authorities
    _o("Agence régionale de l'innovation agricole", K.PUBLIC_INSTITUTION, "innovation", "Montpellier", "Occitanie", "FR", "medium", "funding"),
    _o("Agence de développement agricole du Souss", K.PUBLIC_INSTITUTION, "développement agricole", "Agadir", "Souss-Massa", "MA", "large", "water"),
    _o("Agence de promotion des investissements agroalimentaires", K.PUBLIC_INSTITUTION, "investissement", "Tunis", "Tunis", "TN", "medium", "export"),
    _o("Direction de l'alimentation et des territoires", K.PUBLIC_INSTITUTION, "politique alimentaire", "Paris", "Île-de-France", "FR", "large", "agrifood"),
    _o("Région Occitanie", K.LOCAL_AUTHORITY, "développement économique", "Toulouse", "Occitanie", "FR", "large", "funding"),
    _o("Métropole Garrigues-Littoral", K.LOCAL_AUTHORITY, "développement économique", "Montpellier", "Occitanie", "FR", "large", "agrifood"),
    _o("Conseil régional du Souss-Massa", K.LOCAL_AUTHORITY, "développement régional", "Agadir", "Souss-Massa", "MA", "large", "water"),
    _o("Municipalité de Sfax", K.LOCAL_AUTHORITY, "développement local", "Sfax", "Sfax", "TN", "large", "agrifood"),
    # private institutions, investors, funding programmes
    _o("Fondation Terre et Avenir", K.PRIVATE_INSTITUTION, "philanthropie agricole", "Paris", "Île-de-France", "FR", "small", "funding training"),
    _o("Institut privé de formation agricole Al Amal", K.PRIVATE_INSTITUTION, "formation professionnelle", "Meknès", "Fès-Meknès", "MA", "small", "training"),
    _o("Chambre mixte de commerce France-Méditerranée", K.PRIVATE_INSTITUTION, "commerce international", "Marseille", "Provence-Alpes-Côte d'Azur", "FR", "small", "export"),
    _o("Méditerranée Capital Agro", K.INVESTOR, "capital-risque", "Marseille", "Provence-Alpes-Côte d'Azur", "FR", "small", "funding"),
    _o("Atlas Seed Fund", K.INVESTOR, "amorçage", "Casablanca", "Casablanca-Settat", "MA", "micro", "funding digital"),
    _o("Carthage Business Angels", K.INVESTOR, "business angels", "Tunis", "Tunis", "TN", "micro", "funding"),
    _o("Boreal AgriFood Ventures", K.INVESTOR, "capital-développement", "Montréal", "Québec", "CA", "small", "funding"),
    _o("Bayern Agrar Invest", K.INVESTOR, "investissement agroalimentaire", "München", "Bayern", "DE", "small", "funding export"),
    _o("Programme euro-méditerranéen InnovAgri", K.FUNDING_PROGRAMME, "coopération euro-méditerranéenne", "Bruxelles", "Bruxelles-Capitale", "BE", "small", "funding"),
    _o("Fonds régional pour l'innovation agroalimentaire", K.FUNDING_PROGRAMME, "subventions à l'innovation", "Montpellier", "Occitanie", "FR", "micro", "funding"),
    _o("Programme Eau et sécurité alimentaire en Méditerranée", K.FUNDING_PROGRAMME, "recherche et innovation", "Tunis", "Tunis", "TN", "small", "funding water"),
    # other clusters, associations and unions, media, others
    _o("Cluster Agadir Agro-Innov", K.OTHER_CLUSTER, "cluster agroalimentaire", "Agadir", "Souss-Massa", "MA", "micro", "agrifood"),
    _o("Pôle Olivier Sfax", K.OTHER_CLUSTER, "filière oléicole", "Sfax", "Sfax", "TN", "micro", "olive-oil"),
    _o("Cluster Eau Wallonie", K.OTHER_CLUSTER, "eau", "Namur", "Wallonie", "BE", "micro", "water"),
    _o("Grappe agroalimentaire de Québec", K.OTHER_CLUSTER, "agroalimentaire", "Québec", "Québec", "CA", "small", "agrifood"),
    _o("Fédération régionale des coopératives agricoles du Sud", K.PROFESSIONAL_ASSOCIATION, "coopératives", "Montpellier", "Occitanie", "FR", "small", "agrifood"),
    _o("Association des exportateurs de primeurs du Souss", K.PROFESSIONAL_ASSOCIATION, "export", "Agadir", "Souss-Massa", "MA", "small", "export"),
    _o("Union des producteurs d'huile d'olive de Sfax", K.PROFESSIONAL_ASSOCIATION, "filière oléicole", "Sfax", "Sfax", "TN", "small", "olive-oil"),
    _o("Syndicat des industries agroalimentaires d'Occitanie", K.PROFESSIONAL_ASSOCIATION, "industrie agroalimentaire", "Toulouse", "Occitanie", "FR", "small", "agrifood"),
    _o("La Gazette agricole du Sud", K.MEDIA, "presse régionale", "Montpellier", "Occitanie", "FR", "small", "agrifood"),
    _o("AgriMag Maghreb", K.MEDIA, "presse professionnelle", "Casablanca", "Casablanca-Settat", "MA", "small", "agrifood"),
    _o("Sfax Économie", K.MEDIA, "presse économique", "Sfax", "Sfax", "TN", "micro", "export"),
    _o("Terroirs TV", K.MEDIA, "télévision", "Paris", "Île-de-France", "FR", "medium", "agrifood"),
    _o("Med Agri News", K.MEDIA, "presse internationale", "London", "England", "GB", "small", "export"),
    _o("Cabinet Horizons Conseil", K.OTHER, "conseil en innovation", "Montpellier", "Occitanie", "FR", "micro", "funding"),
)

# Which organisations each target group's contacts belong to.
TARGET_KINDS: dict[T, tuple[K, ...]] = {
    T.GOVERNANCE: (K.COMPANY,),
    T.MEMBER_COMPANY: (K.COMPANY,),
    T.PARTNER: (K.OTHER, K.PRIVATE_INSTITUTION, K.RESEARCH_CENTRE, K.UNIVERSITY),
    T.COMMISSION: (K.COMPANY, K.RESEARCH_CENTRE),
    T.PUBLIC_INSTITUTION: (K.PUBLIC_INSTITUTION,),
    T.LOCAL_AUTHORITY: (K.LOCAL_AUTHORITY,),
    T.PRIVATE_INSTITUTION: (K.PRIVATE_INSTITUTION,),
    T.INVESTOR: (K.INVESTOR,),
    T.PROJECT_HOLDER: (K.COMPANY,),  # start-ups only, or no organisation
    T.RESEARCH: (K.RESEARCH_CENTRE, K.UNIVERSITY),
    T.FUNDING_PROGRAMME: (K.FUNDING_PROGRAMME,),
    T.OTHER_CLUSTER: (K.OTHER_CLUSTER,),
    T.PROFESSIONAL_ASSOCIATION: (K.PROFESSIONAL_ASSOCIATION,),
    T.MEDIA: (K.MEDIA,),
}

# Share of the contacts (besides the fixed staff) per target group.
TARGET_WEIGHTS: dict[T, int] = {
    T.GOVERNANCE: 3, T.MEMBER_COMPANY: 30, T.PARTNER: 6, T.COMMISSION: 6,
    T.PUBLIC_INSTITUTION: 5, T.LOCAL_AUTHORITY: 4, T.PRIVATE_INSTITUTION: 3, T.INVESTOR: 5,
    T.PROJECT_HOLDER: 9, T.RESEARCH: 9, T.FUNDING_PROGRAMME: 3, T.OTHER_CLUSTER: 4,
    T.PROFESSIONAL_ASSOCIATION: 4, T.MEDIA: 6,
}

# (first name, last name, title, language, city); the first four lead interactions.
STAFF = (
    ("Claire", "Fabre", "Chargée d'animation, adhérents et commissions", "fr", "Montpellier"),
    ("Youssef", "El Amrani", "Chargé d'animation, Maroc et export", "fr", "Agadir"),
    ("Sarah", "Ben Salah", "Chargée de communication et d'événements", "fr", "Montpellier"),
    ("Thomas", "Roux", "Chargé de mission innovation et financements", "en", "Montpellier"),
    ("Hélène", "Castan", "Directrice du cluster", "fr", "Montpellier"),
)
ANIMATORS = tuple(f"{first} {last}" for first, last, *_ in STAFF[:4])

# Name pools. Each entry: (female first names, male first names, last names).
_FR = ("Camille Julie Sophie Élodie Manon Hélène Isabelle Nathalie Céline Aurélie Margaux Léa Chloé Émilie Anne-Laure",
       "Nicolas Julien Pierre Antoine Mathieu Olivier Sébastien Laurent François Guillaume Jérôme Benoît Étienne Rémi Jean-Marc",
       "Martin Bernard Dubois Durand Lefèvre Moreau Laurent Simon Michel Garcia Fournier Girard Bonnet Mercier Blanc "
       "Guérin Faure Rousseau Chevalier Dupré Marchand Aubert Perrin Vidal Rey Maurel Castel Pons Arnaud Fabrègue")
_EN = ("Emma Olivia Rachel Hannah Kate Laura Grace Emily", "James David Michael Daniel Andrew Peter Mark Richard",
       "Smith Taylor Brown Wilson Evans Walker Hughes Clarke Turner Bennett Collins Murray Fraser Reid")
_MA = ("Fatima-Zahra Khadija Salma Imane Meryem Nadia Amina Houda Soukaina Ghita Zineb Hajar",
       "Karim Mehdi Hamza Omar Nabil Rachid Hicham Mohamed-Amine Ayoub Anas Yassine Adil",
       "Benali Bennani Alaoui Tazi Berrada Chraibi El-Idrissi Ouazzani Lahlou Benjelloun Kettani Ait-Taleb Bouzidi Naciri")
_TN = ("Leila Sana Rim Ines Asma Yasmine Soumaya Mariem Olfa Emna", "Anis Walid Sami Bilel Tarek Khalil Skander Fares Slim Mehdi",
       "Trabelsi Jaziri Gharbi Hammami Mejri Ben-Ammar Chaabane Bouaziz Jebali Ayari Ferchichi Khemiri Dridi Saidi")
_LB = ("Rania Maya Nour Lara Carla", "Georges Elie Rami Fadi Ziad", "Haddad Khoury Nassar Saab Aoun Karam Hayek Frem")
_ES = ("Lucía Carmen María Elena", "Javier Carlos Miguel Alejandro", "García Martínez López Sánchez Romero Navarro Ortega Delgado")
_NL = ("Sofie Lotte Eline Griet", "Pieter Jan Wouter Bart", "Peeters Janssens Maes Jacobs Willems De-Smet Claes")
_BE = ("Sophie Aurélie Pauline Charlotte", "Maxime Cédric Quentin Damien", "Dupont Lambert Renard Leclercq Dumont Collard Gilson")
_IT = ("Giulia Francesca Chiara", "Marco Luca Andrea", "Rossi Russo Ferrari Esposito Bianchi Romano")
_DE = ("Anna Katrin Julia", "Lukas Stefan Jonas Tobias", "Müller Schmidt Weber Fischer Wagner Becker")
_QC = ("Geneviève Marie-Ève Isabelle Catherine", "Jean-François Marc-André Sylvain Patrice",
       "Tremblay Gagnon Roy Côté Bouchard Gauthier Morin Lavoie Fortin Gagné")


def _pool(spec: tuple[str, str, str]) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    female, male, last = (tuple(w.replace("-", " ") if i == 2 else w for w in part.split())
                          for i, part in enumerate(spec))
    return female, male, last


POOLS = {name: _pool(spec) for name, spec in
         {"fr": _FR, "en": _EN, "ma": _MA, "tn": _TN, "lb": _LB, "es": _ES, "nl": _NL,
          "be": _BE, "it": _IT, "de": _DE, "qc": _QC}.items()}

# Names written in Arabic script, with the Latin form their address is made of
# (first names: eight masculine, then eight feminine).
ARABIC_FIRST = (("يوسف", "youssef"), ("كريم", "karim"), ("مهدي", "mehdi"), ("عمر", "omar"),
                ("حمزة", "hamza"), ("نبيل", "nabil"), ("رشيد", "rachid"), ("سمير", "samir"),
                ("فاطمة", "fatima"), ("خديجة", "khadija"), ("سلمى", "salma"), ("أمينة", "amina"),
                ("ليلى", "leila"), ("نادية", "nadia"), ("مريم", "meryem"), ("هدى", "houda"))
ARABIC_LAST = (("العمراني", "elamrani"), ("بن علي", "benali"), ("العلوي", "alaoui"), ("التازي", "tazi"),
               ("الإدريسي", "elidrissi"), ("بناني", "bennani"), ("الطرابلسي", "trabelsi"),
               ("بن صالح", "bensalah"), ("الغربي", "gharbi"), ("الحمامي", "hammami"),
               ("الجزيري", "jaziri"), ("بوعزيز", "bouaziz"), ("حداد", "haddad"), ("خوري", "khoury"))

# Country -> ((weight, language, name pool), ...)
SPEAKERS: dict[str, tuple[tuple[int, str, str], ...]] = {
    "FR": ((70, "fr", "fr"), (10, "fr", "ma"), (8, "en", "en"), (5, "ar", "ma"), (4, "es", "es"), (3, "it", "it")),
    "MA": ((50, "fr", "ma"), (38, "ar", "ma"), (12, "en", "ma")),
    "TN": ((45, "fr", "tn"), (45, "ar", "tn"), (10, "en", "tn")),
    "BE": ((50, "fr", "be"), (35, "nl", "nl"), (15, "en", "nl")),
    "CA": ((60, "fr", "qc"), (40, "en", "en")),
    "LB": ((40, "ar", "lb"), (35, "fr", "lb"), (25, "en", "lb")),
    "ES": ((75, "es", "es"), (25, "en", "es")),
    "IT": ((80, "it", "it"), (20, "en", "it")),
    "DE": ((70, "de", "de"), (30, "en", "de")),
    "GB": ((100, "en", "en"),),
}

# Country -> phone pattern; each '#' becomes a digit (fictional or drama ranges where they exist).
PHONES = {"FR": "+33 6 39 98 ## ##", "MA": "+212 6 ## ## ## ##", "TN": "+216 9# ### ###",
          "BE": "+32 470 ## ## ##", "CA": "+1 514 555 01##", "LB": "+961 71 ### ###",
          "ES": "+34 6## ### ###", "IT": "+39 3## ### ####", "DE": "+49 151 #### ####",
          "GB": "+44 7700 900###"}

# Target -> (French titles, "masculine|feminine" where they differ; English titles)
TITLES: dict[T, tuple[tuple[str, ...], tuple[str, ...]]] = {
    T.GOVERNANCE: (
        (
            "Président du conseil d'administration|Présidente du conseil d'administration",
            "Vice-président|Vice-présidente", "Trésorier|Trésorière",
            "Secrétaire général|Secrétaire générale", "Administrateur|Administratrice",
        ),
        ("Chair of the board", "Vice-chair", "Treasurer", "Board member"),
    ),
    T.MEMBER_COMPANY: (
        (
            "Directeur général|Directrice générale", "Responsable R&D", "Responsable export",
            "Responsable qualité", "Gérant|Gérante", "Directeur marketing|Directrice marketing",
            "Chef de projet innovation|Cheffe de projet innovation", "Responsable achats",
        ),
        ("CEO", "Managing director", "Head of R&D", "Export manager", "Quality manager", "Innovation project lead"),
    ),
    T.PARTNER: (
        (
            "Chargé de partenariats|Chargée de partenariats",
            "Directeur du développement|Directrice du développement",
            "Consultant innovation|Consultante innovation", "Responsable des relations entreprises",
        ),
        ("Partnership manager", "Business development director", "Innovation consultant"),
    ),
    T.COMMISSION: (
        (
            "Membre de la commission Eau", "Membre de la commission Numérique",
            "Membre de la commission Export",
            "Animateur de la commission Eau|Animatrice de la commission Eau",
        ),
        ("Water commission member", "Digital commission member", "Export commission member"),
    ),
    T.PUBLIC_INSTITUTION: (
        (
            "Chargé de mission agriculture|Chargée de mission agriculture",
            "Directeur adjoint|Directrice adjointe",
            "Chef du service innovation|Cheffe du service innovation",
            "Conseiller technique|Conseillère technique",
        ),
        ("Policy officer", "Deputy director", "Head of innovation"),
    ),
    T.LOCAL_AUTHORITY: (
        (
            "Vice-président chargé de l'agriculture|Vice-présidente chargée de l'agriculture",
            "Chargé de mission développement économique|Chargée de mission développement économique",
            "Directeur de l'attractivité|Directrice de l'attractivité",
        ),
        ("Economic development officer", "Deputy mayor"),
    ),
    T.PRIVATE_INSTITUTION: (
        (
            "Délégué général|Déléguée générale", "Responsable des programmes", "Directeur|Directrice",
        ),
        ("Programme manager", "Director"),
    ),
    T.INVESTOR: (
        (
            "Chargé d'affaires|Chargée d'affaires", "Associé|Associée",
            "Directeur d'investissement|Directrice d'investissement", "Business angel",
        ),
        ("Investment manager", "Partner", "Business angel"),
    ),
    T.PROJECT_HOLDER: (
        (
            "Fondateur|Fondatrice", "Porteur de projet|Porteuse de projet", "Cofondateur|Cofondatrice",
        ),
        ("Founder", "Co-founder", "CEO and founder"),
    ),
    T.RESEARCH: (
        (
            "Chercheur|Chercheuse", "Directeur de laboratoire|Directrice de laboratoire",
            "Maître de conférences", "Ingénieur de recherche|Ingénieure de recherche",
            "Chargé de valorisation|Chargée de valorisation",
        ),
        ("Researcher", "Lab director", "Associate professor", "Technology transfer officer"),
    ),
    T.FUNDING_PROGRAMME: (
        (
            "Chargé de programme|Chargée de programme", "Responsable des appels à projets",
            "Gestionnaire de fonds",
        ),
        ("Programme officer", "Calls coordinator"),
    ),
    T.OTHER_CLUSTER: (
        (
            "Directeur de cluster|Directrice de cluster", "Chargé d'animation|Chargée d'animation",
            "Responsable des partenariats",
        ),
        ("Cluster manager", "Cluster facilitator"),
    ),
    T.PROFESSIONAL_ASSOCIATION: (
        (
            "Président|Présidente", "Délégué général|Déléguée générale",
            "Chargé de mission filière|Chargée de mission filière",
        ),
        ("President", "Executive director"),
    ),
    T.MEDIA: (
        (
            "Journaliste", "Rédacteur en chef|Rédactrice en chef",
            "Correspondant régional|Correspondante régionale", "Journaliste reporter d'images",
        ),
        ("Journalist", "Editor-in-chief", "Correspondent"),
    ),
}
# Target -> (masculine, feminine) titles for names written in Arabic script.
ARABIC_TITLES: dict[T, tuple[str, str]] = {
    T.MEMBER_COMPANY: ("مدير عام", "مديرة عامة"), T.RESEARCH: ("باحث", "باحثة"), T.MEDIA: ("صحفي", "صحفية"),
    T.PROJECT_HOLDER: ("مؤسس", "مؤسسة"), T.PUBLIC_INSTITUTION: ("مكلف بمهمة", "مكلفة بمهمة"),
    T.LOCAL_AUTHORITY: ("مستشار جماعي", "مستشارة جماعية"),
}
# Assessment notes, after the interaction that prompted them.
AFTER = {"visit": "Après la visite", "call": "Après un appel", "email": "Après un échange de courriels",
         "press_contact": "Après un échange avec la presse", "thematic_debate": "Après le débat thématique",
         "workshop": "Après l'atelier", "event_attendance": "Après l'événement", "animator": "Avis de l'animateur"}

DEBATES = (
    "L'eau, ressource rare : irrigation de précision et réutilisation",
    "Le numérique au champ : capteurs, données et drones",
    "Exporter vers l'Afrique de l'Ouest et le Golfe",
    "Emballages biosourcés : sortir du plastique",
    "Financer l'innovation agroalimentaire",
    "Protéines végétales : une filière à construire",
    "Huile d'olive : qualité, labels et marchés",
    "Climat et sécurité alimentaire en Méditerranée",
)
WORKSHOPS = ("Monter un projet collaboratif", "Répondre à un appel à projets européen",
             "Les réseaux sociaux pour les PME agroalimentaires", "Propriété intellectuelle et innovation",
             "La logistique du froid à l'export", "Mesurer l'empreinte eau de ses produits")
REGIONAL = (("Rencontre régionale du Souss-Massa", "Chambre d'agriculture, Agadir", "MA"),
            ("Rencontre régionale de Sfax", "Technopole de Sfax", "TN"),
            ("Rencontre régionale d'Occitanie", "Parc des expositions, Nîmes", "FR"),
            ("Rencontre régionale de Wallonie", "Maison de l'entreprise, Namur", "BE"))
COMMISSIONS = ("Commission Eau", "Commission Numérique", "Commission Export")

VISIT_OUTCOMES = ("Intéressé par la commission Eau", "Adhésion envisagée pour l'an prochain",
                  "Mise en relation avec un laboratoire", "Candidature aux trophées de l'innovation",
                  "Besoin d'accompagnement à l'export", "Pas de suite pour le moment",
                  "Projet collaboratif à monter avec un autre membre", "Demande de présentation au bureau")
CALLS = ("Relance de l'adhésion", "Préparation du débat thématique", "Questions sur l'appel à projets",
         "Suivi de la visite", "Invitation à l'assemblée générale", "Recherche d'un partenaire export",
         "Satisfaction après l'atelier")
EMAILS = ("Envoi de l'ordre du jour et des documents", "Compte rendu de la réunion",
          "Documentation de l'appel à projets collaboratifs", "Présentation des services du cluster",
          "Mise en relation avec un investisseur", "Réponse à une demande d'information")
PRESS = ("Interview sur les trophées de l'innovation", "Communiqué : résultats de l'appel à projets",
         "Reportage lors d'une visite d'entreprise", "Tribune sur l'eau en agriculture",
         "Portrait d'une start-up du cluster", "Annonce de l'assemblée générale")
