"""Language flavours: the raw material invented names and titles are combined from.

Given names and surnames are common ones (facts, not creative works); places, bands, shows and
titles are combinations of them and of everyday words, so no real catalogue is reproduced. Where
a script is not Latin (Japanese, Korean, Russian) the lists run in parallel with a romanisation,
so that user handles stay ASCII while display names and titles use the native script.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Flavour:
    key: str
    language: str
    """The language the word lists are in (ISO 639-1)."""
    given: tuple[str, ...]
    surnames: tuple[str, ...]
    place_heads: tuple[str, ...]
    place_tails: tuple[str, ...]
    words: tuple[str, ...]
    """Title-worthy words and short phrases."""
    joiner: str
    """Links two title words: " of ", " und ", "の"."""
    syllables: tuple[str, ...]
    """For invented band, brand and stage names."""
    given_latin: tuple[str, ...] = ()
    surnames_latin: tuple[str, ...] = ()
    place_heads_latin: tuple[str, ...] = ()
    place_tails_latin: tuple[str, ...] = ()
    family_first: bool = False
    """Whether the surname comes first in a full name (Japanese, Korean)."""
    spaced: bool = True
    """Whether words are separated by spaces."""

    def latin_given(self, i: int) -> str:
        return (self.given_latin or self.given)[i]

    def latin_surname(self, i: int) -> str:
        return (self.surnames_latin or self.surnames)[i]


# Data tables are kept compact by hand: one name per line would hide the lists.
# fmt: off
FLAVOURS: dict[str, Flavour] = {
    f.key: f
    for f in (
        Flavour(
            key="en",
            language="en",
            given=(
                "Emma", "Olivia", "Liam", "Noah", "Ava", "Mia", "James", "Lucas", "Grace", "Henry",
                "Chloe", "Jack", "Ruby", "Oscar", "Zoe", "Ethan", "Isla", "Mason",
            ),
            surnames=(
                "Smith", "Johnson", "Brown", "Taylor", "Walker", "Harris", "Clarke", "Lewis",
                "Young", "Hall", "Wright", "Green", "Baker", "Hughes", "Cooper", "Reed",
            ),
            place_heads=("Ash", "Brook", "Cole", "Mil", "North", "Red", "Stan", "West", "Hart"),
            place_tails=("ford", "ton", "field", "bury", "wick", "mouth", "ham", "ley", "dale"),
            words=(
                "Midnight", "Golden Hour", "Satellite", "Paper Hearts", "Wildfire", "Echoes",
                "Neon Rain", "Harbour Lights", "Slow Motion", "Blue Season", "Afterglow", "Static",
                "Northern Line", "Silver Lining", "Runaway", "Salt Water", "Daylight", "Ghost Town",
                "Open Roads", "Glass House", "Heartbeat", "Parallel Lines", "Summer Fever",
                "Lost Signals", "Velvet Sky", "Homecoming", "Low Tide", "Wonderland",
                "Second Chances", "City of Stars", "Bright Side", "Undertow",
            ),
            joiner=" of ",
            syllables=(
                "ka", "lo", "ri", "ven", "sa", "mor", "tel", "ia", "dan", "ro", "ly", "zen", "bry",
                "ton", "ash",
            ),
        ),
        Flavour(
            key="de",
            language="de",
            given=(
                "Lena", "Jonas", "Leonie", "Felix", "Hannah", "Paul", "Marie", "Lukas", "Anna",
                "Maximilian", "Sophie", "Tobias", "Clara", "Niklas", "Frieda", "Moritz",
            ),
            surnames=(
                "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Wagner", "Becker",
                "Hoffmann", "Schulz", "Koch", "Richter", "Wolf", "Neumann", "Braun", "Krüger",
            ),
            place_heads=("Alt", "Neu", "Ober", "Kirch", "Wald", "Stein", "Rosen", "Lind", "Hohen"),
            place_tails=("burg", "dorf", "hausen", "feld", "bach", "heim", "stadt", "au", "berg"),
            words=(
                "Nachtzug", "Sommerregen", "Herzschlag", "Fernweh", "Morgenrot", "Zeitlos",
                "Sternenstaub", "Wolkenmeer", "Heimweh", "Gegenwind", "Lichterketten", "Funkenflug",
                "Kein Zurück", "Alles auf Anfang", "Nordlicht", "Wellengang", "Stadtrand",
                "Himmelblau", "Schattenspiel", "Sehnsucht", "Frühlingserwachen", "Mitternacht",
                "Kopfkino", "Glücksmoment", "Weites Land", "Tanzfläche",
            ),
            joiner=" und ",
            syllables=("ka", "ber", "lin", "sta", "wol", "ren", "dor", "mi", "hel", "ga"),
        ),
        Flavour(
            key="fr",
            language="fr",
            given=(
                "Léa", "Hugo", "Chloé", "Louis", "Manon", "Gabriel", "Camille", "Arthur", "Inès",
                "Jules", "Zoé", "Raphaël", "Louise", "Nathan", "Alice", "Théo",
            ),
            surnames=(
                "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
                "Leroy", "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "Fournier",
            ),
            place_heads=("Saint-", "Mont", "Beau", "Ville", "Fonte", "Roche", "Val", "Bel"),
            place_tails=("lac", "mont", "fort", "ville", "rive", "champ", "pierre", "bois"),
            words=(
                "Nuit blanche", "Soleil", "Lumière", "Rêverie", "Coeur battant", "Mistral",
                "Mirage", "Étoile filante", "Le Large", "Jours heureux", "Minuit", "Orage",
                "Vertige", "Papillon", "La Vague", "Bord de mer", "Nostalgie", "Printemps",
                "Le Voyage", "Ciel ouvert", "Flamme", "Silence", "Liberté", "Horizon",
            ),
            joiner=" de ",
            syllables=("la", "mi", "ron", "bel", "vi", "sol", "ette", "cor", "ma", "ny"),
        ),
        Flavour(
            key="es",
            language="es",
            given=(
                "Lucía", "Mateo", "Sofía", "Santiago", "Valentina", "Diego", "Camila", "Pablo",
                "Martina", "Alejandro", "Daniela", "Javier", "Isabella", "Carlos", "Elena", "Leo",
            ),
            surnames=(
                "García", "Rodríguez", "Martínez", "López", "González", "Pérez", "Sánchez",
                "Ramírez", "Torres", "Flores", "Rivera", "Gómez", "Díaz", "Morales", "Castro",
            ),
            place_heads=("Valde", "Villa", "Alca", "Mira", "Torre", "Puebla", "Sala", "Cala"),
            place_tails=("mora", "nueva", "flores", "rosa", "real", "verde", "lina", "monte"),
            words=(
                "Corazón", "La Noche", "Fuego", "Luna llena", "Mi Vida", "Bailando", "Sin Ti",
                "Verano", "Amanecer", "Olas", "Tormenta", "Cielo", "Destino", "Libre", "Mariposa",
                "Caminos", "Sueños", "Mil Colores", "Ritmo", "Tequila Sunrise", "Besos",
                "Atardecer", "Alma", "Desierto",
            ),
            joiner=" de ",
            syllables=("ra", "mi", "lo", "sa", "ve", "ta", "ri", "bel", "du", "na"),
        ),
        Flavour(
            key="pt",
            language="pt",
            given=(
                "Ana", "João", "Beatriz", "Miguel", "Larissa", "Gabriel", "Mariana", "Rafael",
                "Júlia", "Pedro", "Camila", "Lucas", "Isabela", "Thiago", "Letícia", "Bruno",
            ),
            surnames=(
                "Silva", "Santos", "Oliveira", "Souza", "Lima", "Pereira", "Costa", "Ferreira",
                "Almeida", "Carvalho", "Ribeiro", "Gomes", "Martins", "Rocha", "Barbosa",
            ),
            place_heads=("Porto ", "Vila ", "Santa ", "Campo ", "Rio ", "São ", "Bela ", "Nova "),
            place_tails=("Alegre", "Verde", "Serra", "Bonita", "Mar", "Luz", "Grande", "Lagoa"),
            words=(
                "Saudade", "Coração", "Mar Aberto", "Luar", "Samba da Noite", "Verão", "Céu Azul",
                "Tempestade", "Caminho", "Maré", "Sol Nascente", "Alegria", "Estrela", "Paixão",
                "Madrugada", "Brisa", "Cidade", "Liberdade", "Sonho", "Pôr do Sol", "Chuva",
                "Distância", "Raiz", "Ventania",
            ),
            joiner=" de ",
            syllables=("ra", "bo", "lu", "sa", "ti", "nha", "ga", "ve", "do", "ri"),
        ),
        Flavour(
            key="it",
            language="it",
            given=(
                "Giulia", "Leonardo", "Sofia", "Francesco", "Aurora", "Alessandro", "Chiara",
                "Lorenzo", "Martina", "Matteo", "Alice", "Tommaso", "Elena", "Marco", "Sara",
            ),
            surnames=(
                "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci",
                "Marino", "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Costa",
            ),
            place_heads=("Castel", "Monte", "Villa", "San ", "Porto", "Borgo", "Pietra", "Roca"),
            place_tails=("franco", "verde", "nova", "bella", "alto", "mare", "luce", "fiore"),
            words=(
                "Amore", "Notte stellata", "Estate", "Cuore", "Il Mare", "Luce", "Tramonto",
                "Dolce Vita", "Primavera", "Fuoco", "Tempesta", "Sogni", "Libertà", "Cielo",
                "Lontano", "Respiro", "Vento", "Le Stelle", "Ritorno", "Mezzanotte",
            ),
            joiner=" di ",
            syllables=("ri", "ca", "lo", "mar", "ti", "na", "vel", "so", "ge", "ni"),
        ),
        Flavour(
            key="nl",
            language="nl",
            given=(
                "Daan", "Emma", "Sem", "Julia", "Lucas", "Tess", "Finn", "Sophie", "Levi", "Anna",
                "Milan", "Fleur", "Jesse", "Sanne", "Thijs", "Lotte",
            ),
            surnames=(
                "de Jong", "Jansen", "de Vries", "van den Berg", "Bakker", "Visser", "Smit",
                "Meijer", "de Boer", "Mulder", "Bos", "Vos", "Peters", "Hendriks", "Dekker",
            ),
            place_heads=("Zand", "Hoog", "Oost", "Wester", "Bree", "Moer", "Dijk", "Ven"),
            place_tails=("dam", "voort", "hoven", "wijk", "drecht", "veen", "berg", "kerk"),
            words=(
                "Zomeravond", "Regen", "Hartslag", "Noorderlicht", "Thuis", "Vrijheid", "Stilte",
                "De Zee", "Morgenrood", "Onderweg", "Sterren", "Verlangen", "Wind mee", "Dromen",
                "Lente", "Licht", "Tegenwind", "Nachtwacht",
            ),
            joiner=" en ",
            syllables=("van", "der", "ke", "lo", "ma", "rij", "ten", "bo", "si", "ver"),
        ),
        Flavour(
            key="nordic",
            language="sv",
            given=(
                "Elsa", "Oskar", "Maja", "William", "Astrid", "Erik", "Ingrid", "Lars", "Freja",
                "Anders", "Sigrid", "Magnus", "Linnea", "Nils", "Ebba", "Henrik",
            ),
            surnames=(
                "Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsen", "Hansen",
                "Berg", "Lindqvist", "Dahl", "Holm", "Lund", "Sandberg", "Nygaard",
            ),
            place_heads=("Stor", "Lill", "Norr", "Sol", "Berg", "Sjö", "Ek", "Hav"),
            place_tails=("vik", "holm", "by", "sund", "dal", "strand", "köping", "fjord"),
            words=(
                "Midnattssol", "Vinterljus", "Hjärtslag", "Norrsken", "Sommarnatt", "Hemåt",
                "Stormvind", "Havet", "Frihet", "Längtan", "Stilla", "Snöfall", "Gryning",
                "Skymning", "Vågor", "Drömmar", "Ljus", "Vildmark",
            ),
            joiner=" och ",
            syllables=("sva", "lin", "ber", "ka", "dal", "mo", "rik", "hel", "ny", "stå"),
        ),
        Flavour(
            key="fi",
            language="fi",
            given=(
                "Aino", "Eetu", "Helmi", "Onni", "Venla", "Leevi", "Emilia", "Väinö", "Siiri",
                "Eino", "Ilona", "Lauri", "Kerttu", "Juho",
            ),
            surnames=(
                "Korhonen", "Virtanen", "Mäkinen", "Nieminen", "Mäkelä", "Hämäläinen", "Laine",
                "Heikkinen", "Koskinen", "Järvinen", "Lehtonen", "Salminen",
            ),
            place_heads=("Jär", "Kuu", "Mäki", "Lah", "Vaa", "Kos", "Rii", "Sal"),
            place_tails=("vi", "la", "koski", "järvi", "niemi", "salmi", "linna", "mäki"),
            words=(
                "Revontulet", "Kesäyö", "Sydän", "Talvi", "Myrsky", "Kaipuu", "Tähtitaivas",
                "Aamurusko", "Hiljaisuus", "Järven rannalla", "Unelma", "Valo", "Lumi", "Tuuli",
                "Kotiin",
            ),
            joiner=" ja ",
            syllables=("kuu", "la", "vi", "mä", "koi", "ta", "nen", "sa", "ri", "hel"),
        ),
        Flavour(
            key="pl",
            language="pl",
            given=(
                "Zuzanna", "Jakub", "Julia", "Antoni", "Maja", "Jan", "Lena", "Szymon", "Hanna",
                "Filip", "Alicja", "Kacper", "Oliwia", "Wojciech",
            ),
            surnames=(
                "Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kowalczyk", "Kamiński", "Lewandowski",
                "Zieliński", "Szymański", "Woźniak", "Dąbrowski", "Kozłowski",
            ),
            place_heads=("Kras", "Wiel", "Brzo", "Lip", "Dąb", "Sosn", "Zawi", "Kamie"),
            place_tails=("owo", "ice", "no", "ów", "ka", "nica", "sko", "ń"),
            words=(
                "Serce", "Noc", "Lato", "Wolność", "Gwiazdy", "Deszcz", "Burza", "Tęsknota", "Świt",
                "Wiatr", "Marzenia", "Morze", "Ogień", "Droga do domu", "Cisza", "Zima",
            ),
            joiner=" i ",
            syllables=("ko", "wa", "ski", "lu", "ra", "mi", "ny", "sza", "bo", "dre"),
        ),
        Flavour(
            key="tr",
            language="tr",
            given=(
                "Elif", "Yusuf", "Zeynep", "Emir", "Defne", "Mustafa", "Ecrin", "Ömer", "Azra",
                "Kerem", "Nehir", "Mehmet", "Ela", "Burak",
            ),
            surnames=(
                "Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Yıldırım", "Öztürk",
                "Aydın", "Özdemir", "Arslan", "Doğan", "Kılıç", "Aslan",
            ),
            place_heads=("Kara", "Ak", "Yeni", "Göl", "Çam", "Kızıl", "Bay", "Deniz"),
            place_tails=("köy", "tepe", "dere", "ova", "kale", "su", "pınar", "ada"),
            words=(
                "Aşk", "Gece", "Yaz", "Kalbim", "Deniz", "Rüzgar", "Yıldızlar", "Özlem", "Şafak",
                "Yağmur", "Hayal", "Sonsuz", "Gönül", "Yol", "Bahar", "Ateş",
            ),
            joiner=" ve ",
            syllables=("ka", "ra", "de", "niz", "yel", "su", "ta", "ay", "gül", "ber"),
        ),
        Flavour(
            key="ru",
            language="ru",
            given=(
                "Анна", "Иван", "Мария", "Дмитрий", "Елена", "Алексей", "Ольга", "Сергей",
                "Наталья", "Михаил", "Татьяна", "Андрей",
            ),
            surnames=(
                "Иванова", "Смирнов", "Кузнецова", "Попов", "Васильева", "Петров", "Соколова",
                "Михайлов", "Новикова", "Фёдоров", "Морозова", "Волков",
            ),
            place_heads=("Ново", "Бело", "Красно", "Зелено", "Старо", "Верхне", "Озёрно"),
            place_tails=("горск", "дар", "град", "ярск", "поль", "реченск", "озёрск"),
            words=(
                "Звёзды", "Ночь", "Лето", "Сердце", "Ветер", "Свобода", "Мечта", "Рассвет", "Дождь",
                "Море", "Зима", "Дорога домой", "Огни города", "Тишина", "Весна",
            ),
            joiner=" и ",
            syllables=("ka", "ri", "no", "va", "mir", "sla", "zo", "lya", "dar", "to"),
            given_latin=(
                "Anna", "Ivan", "Maria", "Dmitry", "Elena", "Alexei", "Olga", "Sergei", "Natalia",
                "Mikhail", "Tatiana", "Andrei",
            ),
            surnames_latin=(
                "Ivanova", "Smirnov", "Kuznetsova", "Popov", "Vasilyeva", "Petrov", "Sokolova",
                "Mikhailov", "Novikova", "Fyodorov", "Morozova", "Volkov",
            ),
            place_heads_latin=("Novo", "Belo", "Krasno", "Zeleno", "Staro", "Verkhne", "Ozyorno"),
            place_tails_latin=("gorsk", "dar", "grad", "yarsk", "pol", "rechensk", "ozyorsk"),
        ),
        Flavour(
            key="ja",
            language="ja",
            given=(
                "陽菜", "結衣", "蓮", "湊", "葵", "凛", "悠真", "美咲", "大翔", "さくら", "翔太",
                "美月",
            ),
            surnames=(
                "佐藤", "鈴木", "高橋", "田中", "渡辺", "伊藤", "山本", "中村", "小林", "加藤",
            ),
            place_heads=("北", "南", "白", "赤", "高", "長", "山", "川"),
            place_tails=("原", "崎", "本", "島", "沢", "野", "田", "森"),
            words=(
                "夜明け", "桜", "星空", "青春", "夏祭り", "約束", "花火", "未来", "雨音", "光",
                "恋心", "風", "夢", "月光", "永遠", "旅立ち", "ありがとう", "キラキラ",
                "シンデレラ", "サヨナラ",
            ),
            joiner="の",
            syllables=("ka", "mi", "sa", "to", "ri", "na", "yu", "ha", "ko", "re"),
            given_latin=(
                "Hina", "Yui", "Ren", "Minato", "Aoi", "Rin", "Yuma", "Misaki", "Hiroto", "Sakura",
                "Shota", "Mizuki",
            ),
            surnames_latin=(
                "Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto", "Nakamura",
                "Kobayashi", "Kato",
            ),
            place_heads_latin=("Kita", "Minami", "Shira", "Aka", "Taka", "Naga", "Yama", "Kawa"),
            place_tails_latin=("hara", "saki", "moto", "shima", "sawa", "no", "da", "mori"),
            family_first=True,
            spaced=False,
        ),
        Flavour(
            key="ko",
            language="ko",
            given=("서연", "민준", "지우", "서준", "하은", "도윤", "수아", "예준", "지민", "하준"),
            surnames=("김", "이", "박", "최", "정", "강", "조", "윤", "장", "임"),
            place_heads=("한", "청", "대", "광", "성", "목", "영", "안"),
            place_tails=("주", "원", "산", "천", "구", "도", "평", "남"),
            words=(
                "사랑", "별빛", "봄날", "첫눈", "여름밤", "너에게", "꿈", "하늘", "우리", "기억",
                "바람", "달빛", "약속", "눈물", "시작", "불꽃",
            ),
            joiner="의 ",
            syllables=("ji", "min", "so", "ra", "hye", "yu", "na", "ha", "seo", "jin"),
            given_latin=(
                "Seoyeon", "Minjun", "Jiwoo", "Seojun", "Haeun", "Doyun", "Sua", "Yejun", "Jimin",
                "Hajun",
            ),
            surnames_latin=(
                "Kim", "Lee", "Park", "Choi", "Jung", "Kang", "Cho", "Yoon", "Jang", "Lim",
            ),
            place_heads_latin=("Han", "Cheong", "Dae", "Gwang", "Seong", "Mok", "Yeong", "An"),
            place_tails_latin=("ju", "won", "san", "cheon", "gu", "do", "pyeong", "nam"),
            family_first=True,
        ),
        Flavour(
            key="hi",
            language="hi",
            given=(
                "Aarav", "Ananya", "Vivaan", "Diya", "Aditya", "Isha", "Arjun", "Priya", "Rohan",
                "Kavya", "Vihaan", "Saanvi", "Karan", "Meera",
            ),
            surnames=(
                "Sharma", "Verma", "Gupta", "Singh", "Patel", "Kumar", "Reddy", "Iyer", "Mehta",
                "Joshi", "Nair", "Chopra", "Malhotra", "Kapoor",
            ),
            place_heads=("Ram", "Shiv", "Chandra", "Sur", "Dev", "Raj", "Indra", "Kamal"),
            place_tails=("pur", "abad", "nagar", "garh", "kot", "ganj", "wadi", "pet"),
            words=(
                "Dil Se", "Pyaar", "Zindagi", "Sapne", "Mohabbat", "Baarish", "Chaand", "Safar",
                "Dosti", "Khushi", "Roshni", "Junoon", "Tere Bina", "Aasmaan", "Dil Ki Baat",
                "Raat",
            ),
            joiner=" ka ",
            syllables=("ra", "vi", "sha", "ni", "ka", "dev", "ma", "an", "ya", "ri"),
        ),
        Flavour(
            key="id",
            language="id",
            given=(
                "Putri", "Budi", "Siti", "Agus", "Dewi", "Rizky", "Ayu", "Fajar", "Nadia", "Dimas",
                "Intan", "Yoga",
            ),
            surnames=(
                "Santoso", "Wijaya", "Saputra", "Hidayat", "Pratama", "Kusuma", "Nugroho",
                "Lestari", "Setiawan", "Hakim", "Wibowo", "Siregar",
            ),
            place_heads=("Sura", "Banda", "Tanjung ", "Kota ", "Suka", "Pura", "Sri", "Bukit "),
            place_tails=("baya", "raja", "jaya", "mulya", "sari", "negara", "makmur", "indah"),
            words=(
                "Cinta", "Malam", "Rindu", "Hujan", "Bintang", "Laut", "Senja", "Mimpi", "Harapan",
                "Pelangi", "Kasih", "Pulang", "Bulan", "Angin",
            ),
            joiner=" dan ",
            syllables=("sa", "ri", "ma", "da", "wi", "nu", "ra", "ya", "ba", "ti"),
        ),
        Flavour(
            key="ng",
            language="en",
            given=(
                "Chidi", "Amara", "Tunde", "Ngozi", "Emeka", "Funmi", "Seun", "Adaeze", "Kunle",
                "Zainab", "Tobi", "Chioma",
            ),
            surnames=(
                "Okafor", "Adeyemi", "Okonkwo", "Balogun", "Eze", "Olawale", "Nwosu", "Bello",
                "Afolabi", "Obi", "Ibrahim", "Adebayo",
            ),
            place_heads=("Ibad", "Oso", "Ilo", "Ake", "Ogbo", "Enu", "Aba", "Oki"),
            place_tails=("an", "gbo", "rin", "ta", "mosho", "gu", "ja", "ke"),
            words=(
                "Gbedu", "Sweet Mother", "Lagos Nights", "Jollof", "Oluwa", "Ginger", "Shine",
                "Soweto Sunrise", "No Wahala", "Ayo", "Celebrate", "Gold", "Joy", "Dance for Me",
            ),
            joiner=" of ",
            syllables=("ba", "de", "yo", "ola", "chi", "ke", "nwa", "ti", "la", "ko"),
        ),
    )
}
# fmt: on
