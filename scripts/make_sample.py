#!/usr/bin/env python3
"""Write the bundled sample run's items: a multilingual food catalogue in JSONL.

    python3 scripts/make_sample.py                       # batch/items.jsonl, 1,000 items
    python3 scripts/make_sample.py --count N --out PATH  # any size ('-' = stdout)

Python 3 standard library only, no network. The output depends only on --seed
and --count, and the items for N are a prefix of the items for any larger N
(each item draws from its own RNG; rare features are spread per block of 200).

One compact JSON object per line, UTF-8 (no BOM, nothing escaped that need not
be), '\\n' line endings, final newline. Each item:

    {"uuid": "fd-000001", "name": ..., "description": ..., "category": ...,
     "origin": {"country": ..., "region": ... or null}, "tags": [0-4 strings],
     "price": 12.95 or 7, "in_stock": true}

The text is written in 17 languages (Latin with accents, Greek, Cyrillic,
Arabic, Devanagari, Thai, Japanese, Korean, Chinese). Per block of 200 items,
exactly: 2 with an emoji outside the BMP, 6 with ASCII double quotes, 4 with a
newline in the description, 2 with backslashes (one kind ends the description
with a backslash, one holds a literal backslash-n), 2 with a tab, 1 with
HTML/</script> text, 1 with a ~2 KB description. About 8% have a null region.
"""
import argparse
import json
import os
import random
import sys

BLOCK = 200
BLOCK_FEATURES = (  # feature, items per block
    ("emoji", 2), ("quote", 6), ("newline", 4), ("backslash", 2),
    ("tab", 2), ("html", 1), ("long", 1),
)
LONG_BYTES = 2000

# --- catalogue categories ---------------------------------------------------

READY, FROZEN, DELI, BAKERY = "Ready Meals", "Frozen", "Deli", "Bakery"
SWEETS, SOUPS, STREET, DAIRY = "Sweets & Desserts", "Soups", "Street Food", "Dairy & Eggs"
PANTRY, CONDIMENTS, DRINKS, WINE = "Pantry", "Condiments", "Beverages", "Wine & Spirits"
PRODUCE = "Produce"
HOT = (READY, FROZEN, SOUPS, STREET)

PRICE_RANGE = {
    READY: (4, 16), FROZEN: (3, 12), DELI: (3, 28), BAKERY: (1, 9), SWEETS: (2, 15),
    SOUPS: (3, 9), STREET: (2, 11), DAIRY: (3, 24), PANTRY: (2, 14),
    CONDIMENTS: (2, 10), DRINKS: (1, 8), WINE: (9, 65), PRODUCE: (2, 12),
}
CENTS = (19, 25, 29, 35, 45, 49, 55, 65, 75, 79, 85, 89, 95, 99)
SIZES_G = ("200 g", "250 g", "300 g", "350 g", "400 g", "500 g", "750 g", "1 kg", "2 × 350 g")
SIZES_ML = ("250 ml", "330 ml", "500 ml", "700 ml", "750 ml", "1 l", "6 × 330 ml")

COMMON_TAGS = (
    "organic", "bestseller", "new", "seasonal", "limited edition", "family size",
    "ready to eat", "chef's choice", "local", "fair trade", "gift idea", "award-winning",
    "no added sugar", "small batch",
)

EMOJI = {  # all outside the BMP; some with a variation selector or a ZWJ sequence
    READY: ("🍲", "😋", "👨‍🍳", "🔥"), FROZEN: ("❄️🍕", "🥟", "😋"), DELI: ("🧀", "🥓", "🥗", "🫒"),
    BAKERY: ("🥐", "🥖", "🥨"), SWEETS: ("🍰", "🍩", "🍮", "🍯"), SOUPS: ("🍜", "🥣", "🍲"),
    STREET: ("🌮", "🥟", "🌯", "🌶️"), DAIRY: ("🧀", "🥛"), PANTRY: ("🫙", "🌿"),
    CONDIMENTS: ("🌶️", "🫙", "🐟"), DRINKS: ("🍵", "🧋", "🥤"), WINE: ("🍷", "🍶", "🍺", "🥃"),
    PRODUCE: ("🍅", "🥕"),
}


class Lang:
    def __init__(self, code, dishes, quals, ing, sents, quotes, notes, tags,
                 country=None, sep=", ", and_=" and ", join=" "):
        self.code, self.dishes, self.quals, self.ing = code, dishes, quals, ing
        self.quotes, self.notes, self.tags = quotes, notes, tags
        # sentences marked '~' suit only hot dishes (cooking, reheating, serving warm)
        self.cold = [t for t in sents if not t.startswith("~")]
        self.hot = [t[1:] for t in sents if t.startswith("~")]
        self.country, self.sep, self.and_, self.join = country, sep, and_, join

    def sents(self, cat):
        return self.cold + self.hot if cat in HOT else self.cold

    def listing(self, items):
        if len(items) == 1:
            return items[0]
        return self.sep.join(items[:-1]) + self.and_ + items[-1]


def D(name, cats, ings, regions, country=None):
    """A dish: name, catalogue categories, ingredients, regions, country."""
    return (name, cats, ings, regions, country)


LANGS = [
    Lang("fr", country="France", and_=" et ", dishes=[
        D("Coq au vin", (READY, FROZEN), ("coq fermier", "vin rouge de Bourgogne", "lardons fumés", "champignons de Paris", "oignons grelots"), ("Bourgogne",)),
        D("Bœuf bourguignon", (READY,), ("paleron de bœuf", "vin rouge", "carottes", "bouquet garni", "lardons"), ("Bourgogne", "Morvan")),
        D("Ratatouille", (READY, DELI), ("aubergines", "courgettes", "poivrons", "tomates", "huile d'olive", "herbes de Provence"), ("Provence-Alpes-Côte d'Azur", "Nice")),
        D("Quiche lorraine", (BAKERY, DELI), ("pâte brisée", "lardons", "crème fraîche", "œufs", "muscade"), ("Lorraine", "Grand Est")),
        D("Bouillabaisse", (SOUPS,), ("rascasse", "grondin", "safran", "fenouil", "rouille à l'ail"), ("Marseille", "Provence")),
        D("Tarte Tatin", (SWEETS, BAKERY), ("pommes caramélisées", "beurre demi-sel", "sucre roux", "pâte feuilletée"), ("Sologne", "Centre-Val de Loire")),
        D("Croissant au beurre", (BAKERY,), ("beurre AOP Charentes-Poitou", "farine de blé", "levain"), ("Île-de-France",)),
        D("Cassoulet de Castelnaudary", (READY,), ("haricots lingots", "confit de canard", "saucisse de Toulouse", "poitrine de porc"), ("Occitanie", "Lauragais")),
        D("Crème brûlée", (SWEETS,), ("crème entière", "jaunes d'œufs", "vanille de Madagascar", "cassonade"), ("Île-de-France",)),
        D("Soupe à l'oignon gratinée", (SOUPS,), ("oignons", "bouillon de bœuf", "croûtons", "comté râpé"), ("Paris",)),
        D("Comté 18 mois", (DAIRY, DELI), ("lait cru de vache", "présure", "sel"), ("Jura", "Franche-Comté")),
        D("Galette complète", (STREET,), ("farine de sarrasin", "jambon", "œuf", "emmental"), ("Bretagne",)),
        D("Madeleines de Commercy", (SWEETS, BAKERY), ("beurre", "miel d'acacia", "zeste de citron", "farine"), ("Lorraine",)),
        D("Cidre brut de Normandie", (WINE,), ("pommes à cidre", "levures indigènes"), ("Pays d'Auge", "Normandie")),
        D("Fondue moitié-moitié", (DAIRY, READY), ("gruyère", "vacherin fribourgeois", "vin blanc", "kirsch", "ail"), ("Fribourg", "Vaud"), "Switzerland"),
        D("Gaufres de Liège", (BAKERY, SWEETS), ("sucre perlé", "beurre", "levure", "vanille"), ("Wallonie", "Liège"), "Belgium"),
    ], quals=("{} maison", "{} à l'ancienne", "{} du chef", "{} façon grand-mère", "{} bio", "{} de saison", "{} (recette traditionnelle)"),
       ing=("Ingrédients principaux : {}.", "Composition : {}.", "Avec {}."),
       sents=(
        "Recette traditionnelle transmise de génération en génération.",
        "~Cuisson lente au four pendant plusieurs heures.",
        "~À servir chaud, avec un bon pain de campagne.",
        "Idéal pour un dîner entre amis.",
        "Sans conservateurs ni colorants artificiels.",
        "À conserver au frais et à consommer dans les trois jours après ouverture.",
        "Fabrication artisanale en petites séries.",
        "~Se marie parfaitement avec un vin rouge léger.",
        "Une spécialité qu'on ne présente plus.",
        "~Réchauffer cinq minutes à la poêle ou au four.",
        "Sélection de nos équipes auprès de producteurs locaux.",
        "Le goût d'autrefois, sans compromis.",
       ),
       quotes=('Élu "meilleur produit de l\'année" par nos clients.', 'Surnommé "le plat du dimanche" dans la région.', 'Mention "fait maison" garantie.'),
       notes=("Allergènes : gluten, lait, œufs.", "Peut contenir des traces de fruits à coque.", "Conservation : entre 0 °C et 4 °C."),
       tags=("bio", "fait maison", "AOP", "Label Rouge")),

    Lang("de", country="Germany", and_=" und ", dishes=[
        D("Käsespätzle", (READY,), ("Eierspätzle", "Bergkäse", "Röstzwiebeln", "Butter"), ("Allgäu", "Schwaben")),
        D("Schweinshaxe", (READY, DELI), ("Schweinshaxe", "Kümmel", "dunkles Bier", "Knoblauch"), ("Bayern",)),
        D("Rheinischer Sauerbraten", (READY,), ("Rindfleisch", "Rotweinessig", "Lebkuchen", "Rosinen", "Lorbeer"), ("Rheinland",)),
        D("Laugenbrezel", (BAKERY,), ("Weizenmehl", "Natronlauge", "grobes Salz"), ("Bayern", "Schwaben")),
        D("Schwarzwälder Kirschtorte", (SWEETS, BAKERY), ("Sauerkirschen", "Kirschwasser", "Sahne", "Schokoladenbiskuit"), ("Schwarzwald", "Baden-Württemberg")),
        D("Apfelstrudel", (SWEETS,), ("Äpfel", "Zimt", "Rosinen", "Strudelteig", "Semmelbrösel"), ("Wien", "Tirol"), "Austria"),
        D("Wiener Schnitzel", (READY, FROZEN), ("Kalbfleisch", "Semmelbrösel", "Zitrone", "Butterschmalz"), ("Wien",), "Austria"),
        D("Currywurst", (STREET,), ("Bratwurst", "Currysoße", "Paprikapulver"), ("Berlin", "Ruhrgebiet")),
        D("Leberkäse", (DELI,), ("Schweinefleisch", "Rindfleisch", "Majoran"), ("Bayern",)),
        D("Rösti", (READY, FROZEN), ("Kartoffeln", "Butter", "Salz"), ("Bern", "Zürich"), "Switzerland"),
        D("Sauerkraut", (PANTRY,), ("Weißkohl", "Salz", "Wacholderbeeren"), ("Franken", "Baden-Württemberg")),
        D("Maultaschen", (READY,), ("Nudelteig", "Brät", "Spinat", "Petersilie"), ("Schwaben",)),
        D("Nürnberger Lebkuchen", (SWEETS,), ("Honig", "Haselnüsse", "Mandeln", "Orangeat", "Lebkuchengewürz"), ("Nürnberg", "Franken")),
        D("Hefeweißbier", (WINE,), ("Weizenmalz", "Gerstenmalz", "Hopfen", "Hefe"), ("Bayern",)),
        D("Kartoffelsuppe", (SOUPS,), ("Kartoffeln", "Lauch", "Karotten", "Wiener Würstchen", "Majoran"), ("Thüringen", "Sachsen")),
    ], quals=("{} nach Omas Rezept", "{} (hausgemacht)", "Bio-{}", "{} aus eigener Herstellung", "{} nach Art des Hauses", "{} – der Klassiker"),
       ing=("Zutaten: {}.", "Hauptzutaten: {}.", "Mit {}."),
       sents=(
        "Nach traditionellem Rezept zubereitet.",
        "~Langsam geschmort für vollen Geschmack.",
        "Ohne künstliche Farb- und Konservierungsstoffe.",
        "~Am besten warm servieren.",
        "~Passt hervorragend zu einem kühlen Bier.",
        "Gekühlt lagern und nach dem Öffnen innerhalb von drei Tagen verzehren.",
        "Aus regionalen Zutaten in kleinen Chargen hergestellt.",
        "~In wenigen Minuten in der Pfanne oder im Ofen fertig.",
        "Ein Klassiker der deutschsprachigen Küche.",
        "Ideal für das Familienessen am Sonntag.",
        "Seit 1962 in Familienhand.",
       ),
       quotes=('Von unseren Kunden zum "Produkt des Jahres" gewählt.', 'Im Volksmund auch "Omas Liebling" genannt.'),
       notes=("Allergene: Gluten, Milch, Ei.", "Kann Spuren von Sellerie und Senf enthalten.", "Mindestens haltbar bis: siehe Verpackung."),
       tags=("hausgemacht", "regional", "Bio", "glutenfrei")),

    Lang("es", country="Spain", and_=" y ", dishes=[
        D("Paella valenciana", (READY,), ("arroz bomba", "pollo", "conejo", "judía verde", "azafrán"), ("Comunidad Valenciana",)),
        D("Tortilla de patatas", (DELI, READY), ("patatas", "huevos camperos", "cebolla", "aceite de oliva virgen extra"), ("Madrid", "Castilla y León")),
        D("Gazpacho andaluz", (SOUPS, DRINKS), ("tomate maduro", "pepino", "pimiento", "ajo", "vinagre de Jerez"), ("Andalucía", "Sevilla")),
        D("Jamón ibérico de bellota", (DELI,), ("pata de cerdo ibérico", "sal marina"), ("Extremadura", "Huelva", "Salamanca")),
        D("Churros con chocolate", (SWEETS, STREET), ("harina de trigo", "chocolate a la taza", "azúcar"), ("Madrid",)),
        D("Pulpo a la gallega", (READY, DELI), ("pulpo", "pimentón de la Vera", "patatas cocidas", "sal gruesa"), ("Galicia",)),
        D("Fabada asturiana", (READY, SOUPS), ("fabes", "chorizo", "morcilla", "lacón"), ("Asturias",)),
        D("Queso manchego curado", (DAIRY, DELI), ("leche de oveja manchega", "cuajo", "sal"), ("Castilla-La Mancha",)),
        D("Crema catalana", (SWEETS,), ("leche entera", "yemas de huevo", "canela", "piel de limón", "azúcar quemado"), ("Cataluña",)),
        D("Vino tinto de Rioja", (WINE,), ("uva tempranillo", "garnacha"), ("La Rioja",)),
        D("Tacos al pastor", (STREET,), ("carne de cerdo adobada", "piña", "tortillas de maíz", "cilantro", "cebolla"), ("Ciudad de México",), "Mexico"),
        D("Mole poblano", (CONDIMENTS, READY), ("chiles mulatos", "chocolate", "ajonjolí", "especias"), ("Puebla",), "Mexico"),
        D("Empanadas salteñas", (STREET, FROZEN), ("carne cortada a cuchillo", "papa", "comino", "huevo duro"), ("Salta",), "Argentina"),
        D("Dulce de leche", (SWEETS, PANTRY), ("leche", "azúcar", "vainilla"), ("Buenos Aires",), "Argentina"),
        D("Ceviche de corvina", (READY,), ("corvina", "limón", "ají limo", "cebolla morada", "camote"), ("Lima",), "Peru"),
        D("Arepas rellenas", (STREET,), ("harina de maíz", "queso", "aguacate", "carne mechada"), ("Caracas", "Zulia"), "Venezuela"),
    ], quals=("{} de la casa", "{} tradicional", "{} al estilo de la abuela", "{} de temporada", "{} artesanal", "{} (receta original)"),
       ing=("Ingredientes: {}.", "Ingredientes principales: {}.", "Con {}."),
       sents=(
        "Receta tradicional transmitida de generación en generación.",
        "~Cocción lenta a fuego bajo durante horas.",
        "Sin conservantes ni colorantes artificiales.",
        "~Servir caliente o a temperatura ambiente.",
        "Ideal para compartir en familia.",
        "Conservar en frío y consumir en tres días una vez abierto el envase.",
        "Producción artesanal en pequeños lotes.",
        "~Marida perfectamente con un vino tinto joven.",
        "Ingredientes de proximidad, seleccionados uno a uno.",
        "~Listo para servir en menos de diez minutos.",
        "Un clásico que nunca falla.",
       ),
       quotes=('Nuestros clientes lo llaman "el sabor de casa".', 'Distinguido con el sello "Alimentos de España".', 'En el pueblo lo conocen como "el rey de la mesa".'),
       notes=("Alérgenos: gluten, leche, huevo.", "Puede contener trazas de frutos de cáscara."),
       tags=("casero", "DOP", "sin gluten", "picante")),

    Lang("it", country="Italy", and_=" e ", dishes=[
        D("Lasagne alla bolognese", (READY, FROZEN), ("sfoglia all'uovo", "ragù di manzo", "besciamella", "Parmigiano Reggiano"), ("Emilia-Romagna", "Bologna")),
        D("Risotto alla milanese", (READY,), ("riso Carnaroli", "zafferano", "midollo", "brodo di carne", "burro"), ("Lombardia",)),
        D("Pizza margherita", (FROZEN, STREET), ("pomodoro San Marzano", "mozzarella di bufala", "basilico", "olio extravergine d'oliva"), ("Napoli", "Campania")),
        D("Spaghetti alla carbonara", (READY,), ("guanciale", "pecorino romano", "tuorli d'uovo", "pepe nero"), ("Roma", "Lazio")),
        D("Tiramisù", (SWEETS,), ("mascarpone", "savoiardi", "caffè espresso", "cacao amaro"), ("Veneto", "Friuli-Venezia Giulia")),
        D("Arancini al ragù", (STREET,), ("riso", "ragù", "piselli", "caciocavallo", "pangrattato"), ("Sicilia", "Catania")),
        D("Pesto alla genovese", (CONDIMENTS,), ("basilico genovese DOP", "pinoli", "aglio", "Parmigiano Reggiano", "olio extravergine d'oliva"), ("Liguria",)),
        D("Focaccia genovese", (BAKERY,), ("farina di grano tenero", "olio extravergine d'oliva", "sale grosso"), ("Liguria", "Genova")),
        D("Cannoli siciliani", (SWEETS,), ("ricotta di pecora", "scorza d'arancia candita", "cialda croccante", "pistacchi di Bronte"), ("Sicilia", "Palermo")),
        D("Ribollita", (SOUPS,), ("cavolo nero", "fagioli cannellini", "pane toscano raffermo", "cipolla"), ("Toscana",)),
        D("Prosciutto di Parma", (DELI,), ("coscia di suino", "sale marino"), ("Emilia-Romagna", "Parma")),
        D("Limoncello", (WINE,), ("limoni di Sorrento", "alcol", "zucchero"), ("Costiera Amalfitana", "Campania")),
        D("Panettone", (SWEETS, BAKERY), ("lievito madre", "uvetta", "canditi", "burro", "uova"), ("Milano", "Lombardia")),
        D("Orecchiette alle cime di rapa", (READY,), ("orecchiette", "cime di rapa", "acciughe", "aglio", "peperoncino"), ("Puglia", "Bari")),
    ], quals=("{} della nonna", "{} della casa", "{} tradizionale", "{} artigianale", "{} bio", "{} (ricetta originale)"),
       ing=("Ingredienti: {}.", "Ingredienti principali: {}.", "Con {}."),
       sents=(
        "Ricetta tradizionale tramandata di generazione in generazione.",
        "~Cottura lenta per un sapore pieno e avvolgente.",
        "Senza conservanti né coloranti artificiali.",
        "~Da gustare ben caldo con un filo d'olio.",
        "Ideale per una cena tra amici.",
        "Conservare in frigorifero e consumare entro tre giorni dall'apertura.",
        "Produzione artigianale in piccoli lotti.",
        "~Si abbina bene a un vino rosso giovane.",
        "Materie prime selezionate da piccoli produttori locali.",
        "~In tavola in dieci minuti.",
        "Un classico della cucina italiana.",
       ),
       quotes=('Votato "prodotto dell\'anno" dai nostri clienti.', 'In paese lo chiamano "il piatto della domenica".'),
       notes=("Allergeni: glutine, latte, uova.", "Può contenere tracce di frutta a guscio."),
       tags=("DOP", "IGP", "fatto a mano", "senza glutine")),

    Lang("en", and_=" and ", dishes=[
        D("Fish and chips", (READY, FROZEN), ("North Sea cod", "beer batter", "Maris Piper potatoes", "malt vinegar"), ("Yorkshire", "Cornwall"), "United Kingdom"),
        D("Shepherd's pie", (READY,), ("minced lamb", "mashed potato", "carrots", "Worcestershire sauce"), ("Lancashire",), "United Kingdom"),
        D("Cornish pasty", (BAKERY, STREET), ("beef skirt", "swede", "potato", "onion", "shortcrust pastry"), ("Cornwall",), "United Kingdom"),
        D("Sticky toffee pudding", (SWEETS,), ("Medjool dates", "muscovado sugar", "butter", "double cream"), ("Cumbria", "Lake District"), "United Kingdom"),
        D("Scones with clotted cream", (BAKERY,), ("self-raising flour", "clotted cream", "strawberry jam"), ("Devon", "Cornwall"), "United Kingdom"),
        D("Single malt Scotch whisky", (WINE,), ("malted barley", "spring water", "peat smoke"), ("Islay", "Speyside"), "United Kingdom"),
        D("Haggis, neeps and tatties", (READY,), ("sheep's pluck", "oatmeal", "onion", "suet", "turnip", "potatoes"), ("Highlands", "Edinburgh"), "United Kingdom"),
        D("New England clam chowder", (SOUPS,), ("quahog clams", "potatoes", "salt pork", "cream", "oyster crackers"), ("Massachusetts", "Maine"), "United States"),
        D("Pulled pork sandwich", (STREET,), ("pork shoulder", "hickory smoke", "coleslaw", "brioche bun", "barbecue sauce"), ("North Carolina", "Tennessee"), "United States"),
        D("Buttermilk pancakes", (BAKERY, FROZEN), ("buttermilk", "maple syrup", "butter", "eggs"), ("Vermont",), "United States"),
        D("Pecan pie", (SWEETS,), ("pecans", "corn syrup", "brown sugar", "vanilla", "pie crust"), ("Georgia", "Texas"), "United States"),
        D("Mac and cheese", (READY, FROZEN), ("elbow macaroni", "aged cheddar", "milk", "breadcrumbs"), ("Wisconsin",), "United States"),
        D("Meat pie", (BAKERY,), ("minced beef", "gravy", "puff pastry"), ("Victoria", "New South Wales"), "Australia"),
        D("Anzac biscuits", (SWEETS,), ("rolled oats", "golden syrup", "desiccated coconut"), ("Victoria",), "Australia"),
        D("Pure maple syrup", (PANTRY,), ("sugar maple sap",), ("Québec", "Ontario"), "Canada"),
        D("Poutine", (STREET,), ("fries", "cheese curds", "brown gravy"), ("Québec",), "Canada"),
    ], quals=("Homemade {}", "Classic {}", "Artisan {}", "Grandma's {}", "{} (family recipe)", "Organic {}", "Slow-cooked {}"),
       ing=("Made with {}.", "Ingredients: {}.", "Key ingredients: {}."),
       sents=(
        "Made to a traditional recipe handed down through the family.",
        "~Slow-cooked for hours for a deep, rounded flavour.",
        "No artificial colours, flavours or preservatives.",
        "~Best served warm.",
        "Perfect for a cosy night in.",
        "Keep refrigerated and eat within three days of opening.",
        "Hand-made in small batches.",
        "~Pairs well with a pint of bitter or a glass of red.",
        "We source our ingredients from local farms we've worked with for years.",
        "~Ready in under ten minutes, oven or microwave.",
        "A crowd-pleaser that's never let us down.",
        "~Don't forget to let it rest for a minute before serving.",
       ),
       quotes=('Our customers call it "the real deal".', 'Winner of a "Great Taste" gold star.', 'Known in the village simply as "the Sunday one".'),
       notes=("Allergens: gluten, milk, egg.", "May contain traces of nuts and sesame.", "Suitable for home freezing."),
       tags=("British classic", "comfort food", "vegetarian-friendly")),

    Lang("pt", and_=" e ", dishes=[
        D("Pastel de nata", (BAKERY, SWEETS), ("massa folhada", "gemas de ovo", "natas", "canela"), ("Lisboa", "Belém"), "Portugal"),
        D("Bacalhau à Brás", (READY,), ("bacalhau desfiado", "batata palha", "ovos", "azeitonas pretas", "salsa"), ("Lisboa",), "Portugal"),
        D("Caldo verde", (SOUPS,), ("couve galega", "batata", "chouriço", "azeite"), ("Minho",), "Portugal"),
        D("Francesinha", (READY,), ("pão de forma", "linguiça", "bife", "queijo", "molho de cerveja"), ("Porto",), "Portugal"),
        D("Vinho do Porto Tawny", (WINE,), ("uvas Touriga Nacional", "aguardente vínica"), ("Douro",), "Portugal"),
        D("Feijoada", (READY,), ("feijão preto", "carne-seca", "linguiça calabresa", "costelinha de porco", "laranja"), ("Rio de Janeiro",), "Brazil"),
        D("Pão de queijo", (BAKERY, FROZEN), ("polvilho azedo", "queijo minas", "ovos", "leite"), ("Minas Gerais",), "Brazil"),
        D("Brigadeiro", (SWEETS,), ("leite condensado", "cacau", "manteiga", "granulado"), ("São Paulo",), "Brazil"),
        D("Coxinha de frango", (STREET, FROZEN), ("frango desfiado", "requeijão", "massa de batata", "farinha de rosca"), ("São Paulo",), "Brazil"),
        D("Moqueca baiana", (READY,), ("peixe", "leite de coco", "azeite de dendê", "pimentões", "coentro"), ("Bahia", "Salvador"), "Brazil"),
        D("Açaí na tigela", (SWEETS, FROZEN), ("polpa de açaí", "banana", "granola", "mel"), ("Pará", "Belém"), "Brazil"),
    ], quals=("{} da casa", "{} tradicional", "{} da avó", "{} artesanal", "{} (receita original)"),
       ing=("Ingredientes: {}.", "Ingredientes principais: {}."),
       sents=(
        "Receita tradicional passada de geração em geração.",
        "~Cozedura lenta para um sabor mais intenso.",
        "Sem conservantes nem corantes artificiais.",
        "~Sirva com pão fresco.",
        "Ideal para partilhar em família.",
        "Conservar no frigorífico e consumir até três dias após a abertura.",
        "Produção artesanal em pequenos lotes.",
        "~Combina na perfeição com um copo de vinho tinto.",
        "Ingredientes de produtores locais.",
        "~Basta aquecer durante cinco minutos.",
        "Um clássico da cozinha lusófona.",
       ),
       quotes=('Os nossos clientes chamam-lhe "o sabor da avó".', 'Vencedor do prémio "Sabor do Ano".'),
       notes=("Alergénios: glúten, leite, ovo.", "Pode conter vestígios de frutos de casca rija."),
       tags=("caseiro", "artesanal", "sem glúten")),

    Lang("ja", country="Japan", sep="、", and_="、", join="", dishes=[
        D("豚骨ラーメン", (READY, STREET), ("豚骨スープ", "細麺", "チャーシュー", "紅しょうが", "きくらげ"), ("福岡県", "博多")),
        D("味噌ラーメン", (READY,), ("合わせ味噌", "太麺", "もやし", "バター", "コーン"), ("北海道", "札幌")),
        D("握り寿司盛り合わせ", (READY, DELI), ("まぐろ", "サーモン", "いくら", "酢飯", "わさび"), ("東京都",)),
        D("天ぷらそば", (READY,), ("そば粉", "海老天", "かつお出汁", "ねぎ"), ("長野県", "信州")),
        D("お好み焼き", (STREET,), ("キャベツ", "小麦粉", "豚バラ肉", "お好みソース", "かつお節"), ("大阪府", "広島県")),
        D("たこ焼き", (STREET, FROZEN), ("たこ", "天かす", "紅しょうが", "青のり"), ("大阪府",)),
        D("宇治抹茶", (DRINKS,), ("碾茶",), ("京都府", "宇治")),
        D("どら焼き", (SWEETS,), ("粒あん", "小麦粉", "卵", "はちみつ"), ("東京都", "浅草")),
        D("豆腐とわかめの味噌汁", (SOUPS,), ("白味噌", "絹ごし豆腐", "わかめ", "ねぎ", "昆布出汁"), ("京都府",)),
        D("うなぎの蒲焼き", (DELI,), ("国産うなぎ", "甘辛だれ", "山椒"), ("静岡県", "浜松")),
        D("純米大吟醸", (WINE,), ("山田錦", "米麹", "仕込み水"), ("兵庫県", "新潟県")),
        D("紀州南高梅の梅干し", (PANTRY,), ("南高梅", "塩", "赤しそ"), ("和歌山県",)),
        D("カレーライス", (READY, FROZEN), ("牛肉", "じゃがいも", "にんじん", "玉ねぎ", "カレールー"), ("神奈川県", "横須賀")),
        D("焼き餃子", (FROZEN,), ("豚ひき肉", "白菜", "にら", "にんにく", "餃子の皮"), ("栃木県", "宇都宮")),
    ], quals=("特製{}", "自家製{}", "老舗の{}", "季節限定{}", "{}（国産）", "昔ながらの{}", "料理長おすすめの{}"),
       ing=("主な材料：{}。", "{}を使用しています。", "原材料：{}。"),
       sents=(
        "伝統的な製法で一つひとつ丁寧に仕上げました。",
        "~じっくり煮込んで旨みを引き出しています。",
        "保存料・着色料は使用していません。",
        "~温めてお召し上がりください。",
        "ご家族みんなで楽しめる定番の味です。",
        "開封後は冷蔵庫で保存し、三日以内にお召し上がりください。",
        "職人が少量ずつ手作りしています。",
        "~日本酒との相性も抜群です。",
        "地元の契約農家から仕入れた食材を使っています。",
        "~電子レンジで約三分温めるだけ。",
        "創業以来変わらない味をお届けします。",
       ),
       quotes=('お客様から "Best of Tokyo" に選ばれました。', '店主いわく "これが本物の味"。'),
       notes=("アレルギー物質：小麦・卵・乳・えび。", "本品製造工場では、そば・落花生を含む製品を生産しています。"),
       tags=("手作り", "国産", "期間限定")),

    Lang("el", country="Greece", and_=" και ", dishes=[
        D("Μουσακάς", (READY, FROZEN), ("μελιτζάνες", "κιμάς μοσχαρίσιος", "μπεσαμέλ", "πατάτες", "κανέλα"), ("Αττική", "Θεσσαλονίκη")),
        D("Σπανακόπιτα", (BAKERY, FROZEN), ("σπανάκι", "φέτα", "φύλλο κρούστας", "άνηθος", "φρέσκα κρεμμυδάκια"), ("Ήπειρος", "Ιωάννινα")),
        D("Σουβλάκι χοιρινό", (STREET,), ("χοιρινό κρέας", "πίτα", "τζατζίκι", "ντομάτα", "κρεμμύδι"), ("Αθήνα",)),
        D("Χωριάτικη σαλάτα", (DELI,), ("ντομάτες", "αγγούρι", "φέτα", "ελιές Καλαμών", "ρίγανη"), ("Κρήτη", "Πελοπόννησος")),
        D("Φέτα ΠΟΠ", (DAIRY,), ("πρόβειο γάλα", "κατσικίσιο γάλα", "αλάτι"), ("Θεσσαλία", "Ήπειρος")),
        D("Μπακλαβάς", (SWEETS,), ("φύλλο κρούστας", "καρύδια", "μέλι", "κανέλα", "βούτυρο"), ("Μακεδονία",)),
        D("Γεμιστά", (READY,), ("ντομάτες", "πιπεριές", "ρύζι", "δυόσμος", "ελαιόλαδο"), ("Κυκλάδες",)),
        D("Φασολάδα", (SOUPS,), ("φασόλια", "καρότα", "σέλινο", "ελαιόλαδο"), ("Θεσσαλία",)),
        D("Παστίτσιο", (READY,), ("χοντρά μακαρόνια", "κιμάς", "μπεσαμέλ", "κεφαλοτύρι"), ("Αττική",)),
        D("Λουκουμάδες", (SWEETS, STREET), ("ζύμη", "θυμαρίσιο μέλι", "κανέλα", "σουσάμι"), ("Αθήνα",)),
        D("Ούζο Πλωμαρίου", (WINE,), ("απόσταγμα σταφυλιού", "γλυκάνισος", "μαστίχα"), ("Λέσβος",)),
        D("Εξαιρετικό παρθένο ελαιόλαδο", (PANTRY,), ("ελιές Κορωνέικη",), ("Κρήτη", "Μεσσηνία")),
        D("Χαλλούμι", (DAIRY,), ("πρόβειο γάλα", "κατσικίσιο γάλα", "δυόσμος"), ("Λευκωσία", "Λεμεσός"), "Cyprus"),
    ], quals=("{} της γιαγιάς", "{} (παραδοσιακή συνταγή)", "{} του σεφ", "{} Bio", "{} (οικογενειακή συνταγή)"),
       ing=("Συστατικά: {}.", "Κύρια συστατικά: {}."),
       sents=(
        "Παραδοσιακή συνταγή από γενιά σε γενιά.",
        "~Αργό μαγείρεμα για πλούσια γεύση.",
        "Χωρίς συντηρητικά και τεχνητά χρώματα.",
        "~Σερβίρετε με φρέσκο ψωμί.",
        "Ιδανική επιλογή για το οικογενειακό τραπέζι.",
        "Διατηρείται στο ψυγείο· καταναλώστε εντός τριών ημερών από το άνοιγμα.",
        "Χειροποίητη παραγωγή σε μικρές ποσότητες.",
        "~Ταιριάζει υπέροχα με ένα ποτήρι κρασί.",
        "Πρώτες ύλες από τοπικούς παραγωγούς.",
        "~Ζεσταίνετε για δέκα λεπτά στον φούρνο.",
        "Ένα κλασικό της ελληνικής κουζίνας.",
       ),
       quotes=('Οι πελάτες μας το λένε "η γεύση του χωριού".', 'Βραβείο "Greek Taste Awards" 2022.'),
       notes=("Αλλεργιογόνα: γλουτένη, γάλα, αυγά.", "Μπορεί να περιέχει ίχνη ξηρών καρπών."),
       tags=("σπιτικό", "ΠΟΠ", "νηστίσιμο")),

    Lang("pl", country="Poland", and_=" i ", dishes=[
        D("Pierogi ruskie", (FROZEN, READY), ("ciasto pierogowe", "ziemniaki", "twaróg", "cebula", "pieprz"), ("Małopolska", "Podkarpacie")),
        D("Bigos staropolski", (READY,), ("kiszona kapusta", "kiełbasa", "wieprzowina", "suszone grzyby", "śliwki"), ("Mazowsze", "Podlasie")),
        D("Żurek na zakwasie", (SOUPS,), ("zakwas żytni", "biała kiełbasa", "jajko", "majeranek", "chrzan"), ("Śląsk", "Wielkopolska")),
        D("Barszcz czerwony", (SOUPS,), ("buraki", "zakwas buraczany", "czosnek", "majeranek"), ("Lubelszczyzna",)),
        D("Gołąbki", (READY,), ("kapusta", "mięso mielone", "ryż", "sos pomidorowy"), ("Mazowsze",)),
        D("Oscypek", (DAIRY, DELI), ("mleko owcze", "sól"), ("Podhale", "Małopolska")),
        D("Pączki z różą", (BAKERY, SWEETS), ("ciasto drożdżowe", "konfitura z róży", "lukier", "skórka pomarańczowa"), ("Warszawa",)),
        D("Sernik krakowski", (SWEETS,), ("twaróg", "jajka", "rodzynki", "kruche ciasto"), ("Kraków",)),
        D("Kiełbasa krakowska", (DELI,), ("wieprzowina", "czosnek", "pieprz", "dym bukowy"), ("Kraków",)),
        D("Placki ziemniaczane", (READY, STREET), ("ziemniaki", "cebula", "jajko", "śmietana"), ("Wielkopolska",)),
        D("Obwarzanek krakowski", (BAKERY, STREET), ("mąka pszenna", "mak", "sezam", "sól"), ("Kraków",)),
        D("Nalewka wiśniowa", (WINE,), ("wiśnie", "spirytus", "cukier"), ("Lubelszczyzna",)),
        D("Kompot z suszu", (DRINKS,), ("suszone śliwki", "suszone jabłka", "gruszki", "goździki"), ("Mazowsze",)),
    ], quals=("{} domowej roboty", "{} po staropolsku", "{} według przepisu babci", "{} (tradycyjna receptura)", "Eko {}"),
       ing=("Składniki: {}.", "Główne składniki: {}."),
       sents=(
        "Tradycyjna receptura przekazywana z pokolenia na pokolenie.",
        "~Powolne gotowanie wydobywa pełnię smaku.",
        "Bez konserwantów i sztucznych barwników.",
        "~Podawać na ciepło ze świeżym pieczywem.",
        "Świetny wybór na rodzinny obiad.",
        "Przechowywać w lodówce i spożyć w ciągu trzech dni od otwarcia.",
        "Produkcja rzemieślnicza w małych partiach.",
        "~Doskonale komponuje się z kieliszkiem czerwonego wina.",
        "Składniki od lokalnych rolników.",
        "~Wystarczy podgrzać przez dziesięć minut.",
        "Klasyka polskiej kuchni.",
       ),
       quotes=('Nasi klienci mówią na to "smak dzieciństwa".', 'Wyróżnienie "Nasze Kulinarne Dziedzictwo".'),
       notes=("Alergeny: gluten, mleko, jaja.", "Może zawierać śladowe ilości orzechów."),
       tags=("domowe", "tradycyjne", "regionalne")),

    Lang("tr", country="Türkiye", and_=" ve ", dishes=[
        D("İskender kebap", (READY,), ("döner eti", "pide", "tereyağı", "domates sosu", "yoğurt"), ("Bursa",)),
        D("Lahmacun", (STREET, FROZEN), ("ince hamur", "kıyma", "maydanoz", "isot biber", "limon"), ("Şanlıurfa", "Gaziantep")),
        D("Mercimek çorbası", (SOUPS,), ("kırmızı mercimek", "soğan", "havuç", "kimyon", "nane"), ("İstanbul", "Ankara")),
        D("Fıstıklı baklava", (SWEETS,), ("yufka", "Antep fıstığı", "tereyağı", "şerbet"), ("Gaziantep",)),
        D("Kayseri mantısı", (READY, FROZEN), ("hamur", "kıyma", "sarımsaklı yoğurt", "pul biber"), ("Kayseri",)),
        D("Simit", (BAKERY, STREET), ("un", "pekmez", "susam"), ("İstanbul", "Ankara")),
        D("Künefe", (SWEETS,), ("tel kadayıf", "Hatay peyniri", "şerbet", "fıstık"), ("Hatay", "Antakya")),
        D("Menemen", (READY,), ("yumurta", "domates", "sivri biber", "zeytinyağı"), ("İzmir",)),
        D("Türk kahvesi", (DRINKS,), ("ince çekilmiş kahve", "su", "şeker"), ("İstanbul",)),
        D("Lokum", (SWEETS,), ("nişasta", "şeker", "gül suyu", "fındık"), ("İstanbul", "Afyonkarahisar")),
        D("Ayran", (DRINKS, DAIRY), ("yoğurt", "su", "tuz"), ("Balıkesir",)),
        D("Rakı", (WINE,), ("üzüm", "anason"), ("Tekirdağ",)),
        D("İçli köfte", (FROZEN, STREET), ("bulgur", "kıyma", "ceviz", "soğan"), ("Diyarbakır", "Mardin")),
    ], quals=("Ev yapımı {}", "Köy usulü {}", "Usta işi {}", "{} (geleneksel tarif)", "Özel {}", "Organik {}"),
       ing=("Malzemeler: {}.", "İçindekiler: {}."),
       sents=(
        "Nesilden nesile aktarılan geleneksel tarif.",
        "~Ağır ateşte uzun süre pişirilir.",
        "Koruyucu ve yapay renklendirici içermez.",
        "~Sıcak servis ediniz.",
        "Aile sofraları için ideal.",
        "Açıldıktan sonra buzdolabında saklayınız ve üç gün içinde tüketiniz.",
        "Küçük partiler halinde el yapımı olarak üretilir.",
        "~Bir bardak çay ile harika gider.",
        "Yerel üreticilerden seçilmiş malzemeler.",
        "~On dakikada sofranızda.",
        "Türk mutfağının vazgeçilmez bir klasiği.",
       ),
       quotes=('Müşterilerimiz ona "annemin yemeği" diyor.', 'Yılın "En İyi Lezzet" ödülünü kazandı.'),
       notes=("Alerjenler: gluten, süt, yumurta.", "Eser miktarda fındık ve susam içerebilir."),
       tags=("ev yapımı", "helal", "yöresel")),

    Lang("vi", country="Vietnam", and_=" và ", dishes=[
        D("Phở bò", (SOUPS, READY), ("bánh phở", "thịt bò tái", "nước dùng xương bò", "hoa hồi", "quế", "hành lá"), ("Hà Nội", "Nam Định")),
        D("Bánh mì thịt", (STREET,), ("bánh mì giòn", "pa-tê", "thịt nguội", "đồ chua", "ngò rí"), ("Sài Gòn",)),
        D("Bún chả", (READY,), ("bún", "chả nướng", "nước mắm chua ngọt", "rau sống"), ("Hà Nội",)),
        D("Gỏi cuốn", (DELI, STREET), ("bánh tráng", "tôm", "thịt heo", "bún", "rau thơm"), ("TP. Hồ Chí Minh",)),
        D("Bún bò Huế", (SOUPS,), ("bún sợi to", "bắp bò", "giò heo", "sả", "mắm ruốc"), ("Huế",)),
        D("Cà phê sữa đá", (DRINKS,), ("cà phê Robusta", "sữa đặc", "đá"), ("Đắk Lắk", "Buôn Ma Thuột")),
        D("Chả giò", (FROZEN,), ("bánh tráng", "thịt heo xay", "miến", "nấm mèo", "cà rốt"), ("Sài Gòn",)),
        D("Cơm tấm sườn bì chả", (READY,), ("cơm tấm", "sườn nướng", "bì", "chả trứng", "mỡ hành"), ("Sài Gòn",)),
        D("Nước mắm Phú Quốc", (CONDIMENTS,), ("cá cơm", "muối biển"), ("Phú Quốc", "Kiên Giang")),
        D("Bánh xèo", (STREET,), ("bột gạo", "nghệ", "tôm", "giá đỗ", "nước cốt dừa"), ("Cần Thơ", "Miền Tây")),
        D("Chè ba màu", (SWEETS,), ("đậu xanh", "đậu đỏ", "thạch", "nước cốt dừa"), ("Sài Gòn",)),
        D("Cao lầu", (READY,), ("sợi cao lầu", "thịt xá xíu", "rau sống", "tóp mỡ"), ("Hội An", "Quảng Nam")),
    ], quals=("{} đặc biệt", "{} gia truyền", "{} nhà làm", "{} truyền thống", "{} (công thức của bà)", "{} hữu cơ"),
       ing=("Thành phần: {}.", "Nguyên liệu chính: {}."),
       sents=(
        "Công thức gia truyền qua nhiều thế hệ.",
        "~Ninh nhừ nhiều giờ để giữ trọn vị ngọt tự nhiên.",
        "Không chất bảo quản, không phẩm màu nhân tạo.",
        "~Dùng nóng sẽ ngon hơn.",
        "Thích hợp cho bữa cơm gia đình.",
        "Bảo quản trong tủ lạnh và dùng trong vòng ba ngày sau khi mở.",
        "Làm thủ công theo từng mẻ nhỏ.",
        "~Ăn kèm rau thơm và một chút chanh ớt.",
        "Nguyên liệu tươi từ các nhà vườn địa phương.",
        "~Chỉ cần hâm nóng trong năm phút.",
        "Hương vị đường phố đích thực.",
       ),
       quotes=('Khách quen gọi là "ngon nhất phố".', 'Được bình chọn "Món ngon của năm".'),
       notes=("Chất gây dị ứng: gluten, đậu nành, tôm.", "Có thể chứa dấu vết của đậu phộng."),
       tags=("đặc sản", "nhà làm", "cay")),

    Lang("ru", country="Russia", and_=" и ", dishes=[
        D("Пельмени сибирские", (FROZEN,), ("говядина", "свинина", "лук", "тесто", "чёрный перец"), ("Сибирь", "Урал")),
        D("Блины с красной икрой", (READY, DELI), ("пшеничная мука", "молоко", "сливочное масло", "икра лосося"), ("Москва",)),
        D("Щи из квашеной капусты", (SOUPS,), ("квашеная капуста", "говядина", "картофель", "лавровый лист"), ("Владимирская область",)),
        D("Бефстроганов", (READY,), ("говяжья вырезка", "сметана", "шампиньоны", "лук"), ("Санкт-Петербург",)),
        D("Салат оливье", (DELI,), ("картофель", "зелёный горошек", "солёные огурцы", "яйца", "майонез"), ("Москва",)),
        D("Сырники", (READY, FROZEN), ("творог", "яйца", "мука", "ваниль"), ("Москва",)),
        D("Пирожки с капустой", (BAKERY,), ("дрожжевое тесто", "тушёная капуста", "яйцо", "лук"), ("Тула",)),
        D("Квас хлебный", (DRINKS,), ("ржаной солод", "ржаные сухари", "сахар", "закваска"), ("Центральная Россия",)),
        D("Солянка мясная", (SOUPS,), ("копчёности", "солёные огурцы", "маслины", "лимон", "каперсы"), ("Москва",)),
        D("Торт «Медовик»", (SWEETS,), ("гречишный мёд", "сметанный крем", "мука", "сливочное масло"), ("Санкт-Петербург",)),
        D("Уха из судака", (SOUPS,), ("судак", "окунь", "картофель", "укроп"), ("Астрахань", "Поволжье")),
        D("Гречневая каша с грибами", (READY,), ("гречка", "белые грибы", "лук", "сливочное масло"), ("Алтай",)),
    ], quals=("{} по-домашнему", "{} от шефа", "{} по бабушкиному рецепту", "{} (традиционный рецепт)"),
       ing=("Состав: {}.", "Основные ингредиенты: {}."),
       sents=(
        "Традиционный рецепт, передаваемый из поколения в поколение.",
        "~Долгое томление раскрывает вкус.",
        "Без консервантов и искусственных красителей.",
        "~Подавайте со сметаной и свежим хлебом.",
        "Отличный выбор для семейного ужина.",
        "Хранить в холодильнике; после вскрытия употребить в течение трёх суток.",
        "Ручная работа, небольшие партии.",
        "~Прекрасно сочетается с бокалом красного вина.",
        "Продукты от местных фермеров.",
        "~Достаточно разогреть в течение пяти минут.",
        "Классика русской кухни.",
       ),
       quotes=('Наши покупатели называют это "вкусом детства".', 'Победитель конкурса "Вкус года".'),
       notes=("Аллергены: глютен, молоко, яйца.", "Может содержать следы орехов."),
       tags=("домашнее", "фермерское", "без ГМО")),

    Lang("ko", country="South Korea", and_=", ", dishes=[
        D("김치찌개", (SOUPS,), ("묵은지", "돼지고기", "두부", "고춧가루", "대파"), ("서울",)),
        D("전주비빔밥", (READY,), ("쌀밥", "나물", "고추장", "달걀", "참기름"), ("전라북도", "전주")),
        D("소불고기", (READY, FROZEN), ("소고기", "간장", "배", "마늘", "참기름"), ("서울", "언양")),
        D("떡볶이", (STREET,), ("떡", "고추장", "어묵", "대파"), ("서울",)),
        D("배추김치", (PANTRY, DELI), ("배추", "고춧가루", "젓갈", "마늘", "생강"), ("전라남도", "광주")),
        D("삼계탕", (SOUPS,), ("영계", "인삼", "찹쌀", "대추", "마늘"), ("경기도",)),
        D("씨앗호떡", (SWEETS, STREET), ("찹쌀가루", "흑설탕", "계피", "해바라기씨"), ("부산",)),
        D("막걸리", (WINE,), ("쌀", "누룩", "물"), ("경기도", "포천")),
        D("잡채", (DELI,), ("당면", "시금치", "당근", "소고기", "표고버섯"), ("서울",)),
        D("물냉면", (READY,), ("메밀면", "동치미 국물", "배", "삶은 달걀"), ("함흥", "서울")),
    ], quals=("수제 {}", "전통 {}", "특제 {}", "엄마표 {}", "{} (국내산)", "명인 {}"),
       ing=("주재료: {}.", "원재료: {}."),
       sents=(
        "대대로 내려온 전통 방식으로 만들었습니다.",
        "~오랜 시간 정성껏 끓여 깊은 맛을 냈습니다.",
        "보존료와 인공 색소를 넣지 않았습니다.",
        "~따뜻하게 드시면 더욱 맛있습니다.",
        "온 가족이 함께 즐기기 좋습니다.",
        "개봉 후에는 냉장 보관하고 3일 이내에 드세요.",
        "소량씩 손으로 만듭니다.",
        "~막걸리와 함께 드시면 잘 어울립니다.",
        "지역 농가에서 직접 받은 재료를 사용합니다.",
        "~전자레인지에 3분이면 완성됩니다.",
       ),
       quotes=('단골손님들은 "엄마 손맛"이라고 부릅니다.', '"올해의 맛" 상을 받았습니다.'),
       notes=("알레르기 유발 물질: 밀, 대두, 달걀.", "땅콩을 사용한 제품과 같은 시설에서 제조했습니다."),
       tags=("수제", "국산", "매운맛")),

    Lang("zh", country="China", sep="、", and_="、", join="", dishes=[
        D("麻婆豆腐", (READY,), ("嫩豆腐", "牛肉末", "郫县豆瓣酱", "花椒"), ("四川", "成都")),
        D("北京烤鸭", (DELI,), ("北京填鸭", "荷叶饼", "甜面酱", "葱丝", "黄瓜"), ("北京",)),
        D("小笼包", (FROZEN,), ("猪肉馅", "皮冻", "面粉", "姜"), ("上海", "南翔")),
        D("宫保鸡丁", (READY,), ("鸡腿肉", "花生", "干辣椒", "花椒"), ("四川", "贵州")),
        D("兰州牛肉面", (READY, SOUPS), ("牛骨汤", "拉面", "白萝卜", "辣椒油", "香菜"), ("甘肃", "兰州")),
        D("广式月饼", (SWEETS,), ("莲蓉", "咸蛋黄", "面粉", "花生油"), ("广东", "广州")),
        D("西湖龙井", (DRINKS,), ("龙井茶叶",), ("浙江", "杭州")),
        D("肉夹馍", (STREET,), ("腊汁肉", "白吉馍", "青椒"), ("陕西", "西安")),
        D("叉烧包", (BAKERY, FROZEN), ("叉烧", "面粉", "蚝油"), ("广东", "香港")),
        D("柳州螺蛳粉", (READY,), ("米粉", "螺蛳汤", "酸笋", "腐竹", "花生"), ("广西", "柳州")),
        D("珍珠奶茶", (DRINKS,), ("紅茶", "鮮奶", "黑糖", "珍珠粉圓"), ("台中", "臺北"), "Taiwan"),
        D("紅燒牛肉麵", (READY,), ("紅燒牛腱", "手工麵", "酸菜", "蔥花"), ("臺北",), "Taiwan"),
    ], quals=("秘制{}", "家常{}", "手工{}", "老字号{}", "{}（传统做法）", "招牌{}"),
       ing=("主要原料：{}。", "配料：{}。"),
       sents=(
        "传承多年的传统配方。",
        "~文火慢炖，味道醇厚。",
        "不含防腐剂和人工色素。",
        "~趁热食用，风味更佳。",
        "适合全家人一起分享。",
        "开封后请冷藏，并于三天内食用。",
        "小批量手工制作。",
        "~搭配一杯热茶更是绝配。",
        "选用当地农户的新鲜食材。",
        "~微波加热三分钟即可享用。",
       ),
       quotes=('老顾客都说这是"家的味道"。', '荣获"年度美食"称号。'),
       notes=("过敏原信息：含有小麦、大豆、花生。", "本品生产线同时加工含坚果的产品。"),
       tags=("手工", "招牌", "麻辣")),

    Lang("hi", country="India", and_=" और ", dishes=[
        D("बटर चिकन", (READY,), ("चिकन", "मक्खन", "टमाटर", "क्रीम", "कसूरी मेथी"), ("दिल्ली", "पंजाब")),
        D("पालक पनीर", (READY,), ("पालक", "पनीर", "लहसुन", "अदरक", "गरम मसाला"), ("पंजाब",)),
        D("हैदराबादी बिरयानी", (READY, FROZEN), ("बासमती चावल", "मटन", "केसर", "तले प्याज़", "दही"), ("हैदराबाद", "तेलंगाना")),
        D("मसाला डोसा", (STREET,), ("चावल", "उड़द दाल", "आलू", "राई", "करी पत्ता"), ("कर्नाटक", "तमिलनाडु")),
        D("समोसा", (STREET, FROZEN), ("मैदा", "आलू", "हरी मटर", "जीरा", "हरी मिर्च"), ("उत्तर प्रदेश",)),
        D("गुलाब जामुन", (SWEETS,), ("खोया", "चाशनी", "इलायची", "गुलाब जल"), ("उत्तर प्रदेश", "पश्चिम बंगाल")),
        D("मसाला चाय", (DRINKS,), ("असम चाय", "दूध", "अदरक", "इलायची", "लौंग"), ("असम",)),
        D("दाल मखनी", (READY,), ("साबुत उड़द", "राजमा", "मक्खन", "क्रीम"), ("पंजाब",)),
        D("आम का अचार", (CONDIMENTS,), ("कच्चा आम", "सरसों का तेल", "मेथी", "सौंफ"), ("आंध्र प्रदेश", "राजस्थान")),
        D("पाव भाजी", (STREET,), ("पाव", "मिक्स सब्ज़ियाँ", "मक्खन", "पाव भाजी मसाला"), ("मुंबई", "महाराष्ट्र")),
        D("मैंगो लस्सी", (DRINKS,), ("दही", "अल्फांसो आम", "चीनी", "इलायची"), ("महाराष्ट्र",)),
    ], quals=("शाही {}", "स्पेशल {}", "{} (पारंपरिक विधि)", "देसी {}", "शेफ़ स्पेशल {}"),
       ing=("सामग्री: {}।", "मुख्य सामग्री: {}।"),
       sents=(
        "पीढ़ियों से चली आ रही पारंपरिक विधि से तैयार।",
        "~धीमी आँच पर पकाया गया, भरपूर स्वाद के लिए।",
        "कोई प्रिज़र्वेटिव या कृत्रिम रंग नहीं।",
        "~गरमागरम परोसें।",
        "पूरे परिवार के लिए बढ़िया विकल्प।",
        "खोलने के बाद फ्रिज में रखें और तीन दिन के भीतर इस्तेमाल करें।",
        "छोटे बैचों में हाथ से बनाया गया।",
        "~नान या जीरा राइस के साथ खूब जमता है।",
        "स्थानीय किसानों से चुनी गई ताज़ा सामग्री।",
        "~बस पाँच मिनट गरम करें और परोसें।",
       ),
       quotes=('ग्राहक इसे "माँ के हाथ का स्वाद" कहते हैं।', '"साल का सबसे अच्छा स्वाद" पुरस्कार विजेता।'),
       notes=("एलर्जी जानकारी: इसमें दूध और मेवे हैं।", "इसमें गेहूँ के अंश हो सकते हैं।"),
       tags=("शाकाहारी", "देसी", "तीखा")),

    Lang("th", country="Thailand", and_=" และ ", dishes=[
        D("ต้มยำกุ้ง", (SOUPS,), ("กุ้งแม่น้ำ", "ตะไคร้", "ข่า", "ใบมะกรูด", "พริกขี้หนู"), ("กรุงเทพมหานคร", "อยุธยา")),
        D("ผัดไทย", (STREET, READY), ("เส้นจันท์", "กุ้งสด", "เต้าหู้", "ถั่วงอก", "ถั่วลิสง"), ("กรุงเทพมหานคร",)),
        D("แกงเขียวหวานไก่", (READY,), ("ไก่", "กะทิ", "พริกแกงเขียวหวาน", "มะเขือเปราะ", "ใบโหระพา"), ("ภาคกลาง",)),
        D("ส้มตำไทย", (STREET,), ("มะละกอดิบ", "มะเขือเทศ", "ถั่วฝักยาว", "กุ้งแห้ง", "น้ำปลา"), ("ขอนแก่น", "อีสาน")),
        D("ข้าวเหนียวมะม่วง", (SWEETS,), ("ข้าวเหนียว", "มะม่วงน้ำดอกไม้", "กะทิ", "งาคั่ว"), ("ภาคกลาง",)),
        D("ข้าวซอยไก่", (READY, SOUPS), ("บะหมี่ไข่", "ไก่", "กะทิ", "พริกแกง", "หอมแดง"), ("เชียงใหม่",)),
        D("แกงมัสมั่นเนื้อ", (READY,), ("เนื้อวัว", "มันฝรั่ง", "ถั่วลิสง", "กะทิ", "อบเชย"), ("ภาคใต้",)),
        D("ชาไทย", (DRINKS,), ("ใบชา", "นมข้นหวาน", "น้ำตาล"), ("เชียงราย",)),
        D("น้ำพริกหนุ่ม", (CONDIMENTS,), ("พริกหนุ่ม", "หอมแดง", "กระเทียม"), ("เชียงใหม่", "ภาคเหนือ")),
    ], quals=("{} สูตรโบราณ", "{} พิเศษ", "{} (สูตรคุณยาย)", "{} ต้นตำรับ", "{} ออร์แกนิก"),
       ing=("ส่วนประกอบ: {}", "วัตถุดิบหลัก: {}"),
       sents=(
        "สูตรดั้งเดิมที่สืบทอดกันมาหลายรุ่น",
        "~เคี่ยวอย่างช้า ๆ เพื่อรสชาติที่กลมกล่อม",
        "ไม่ใส่วัตถุกันเสียและสีสังเคราะห์",
        "~เสิร์ฟร้อน ๆ อร่อยที่สุด",
        "เหมาะสำหรับมื้อครอบครัว",
        "หลังเปิดควรเก็บในตู้เย็นและรับประทานภายในสามวัน",
        "ทำมือทีละน้อยอย่างพิถีพิถัน",
        "~รับประทานคู่กับข้าวสวยร้อน ๆ",
        "คัดสรรวัตถุดิบจากเกษตรกรท้องถิ่น",
        "~อุ่นในไมโครเวฟเพียงสามนาที",
       ),
       quotes=('ลูกค้าประจำเรียกว่า "รสมือแม่"', 'ได้รับรางวัล "อาหารยอดนิยมแห่งปี"'),
       notes=("สารก่อภูมิแพ้: กุ้ง ถั่วลิสง ถั่วเหลือง", "อาจมีส่วนผสมของนมและไข่"),
       tags=("เผ็ด", "ต้นตำรับ", "ฮาลาล")),

    Lang("ar", sep="، ", and_=" و", dishes=[
        D("حمص بالطحينة", (DELI,), ("الحمص", "الطحينة", "عصير الليمون", "الثوم", "زيت الزيتون"), ("بيروت",), "Lebanon"),
        D("تبولة", (DELI,), ("البقدونس", "البرغل", "الطماطم", "النعناع", "زيت الزيتون"), ("جبل لبنان",), "Lebanon"),
        D("فلافل", (STREET, FROZEN), ("الفول", "الكزبرة", "البقدونس", "الكمون"), ("القاهرة", "الإسكندرية"), "Egypt"),
        D("كشري", (STREET,), ("العدس", "الأرز", "المكرونة", "صلصة الطماطم", "البصل المقلي"), ("القاهرة",), "Egypt"),
        D("ملوخية بالدجاج", (SOUPS,), ("الملوخية", "مرق الدجاج", "الثوم", "الكزبرة"), ("القاهرة",), "Egypt"),
        D("كبسة دجاج", (READY,), ("الأرز البسمتي", "الدجاج", "البهارات", "اللوز", "الزبيب"), ("الرياض", "نجد"), "Saudi Arabia"),
        D("قهوة عربية بالهيل", (DRINKS,), ("البن العربي", "الهيل", "الزعفران"), ("نجد",), "Saudi Arabia"),
        D("منسف", (READY,), ("لحم الضأن", "الجميد", "الأرز", "خبز الشراك", "الصنوبر"), ("عمّان", "الكرك"), "Jordan"),
        D("كنافة نابلسية", (SWEETS,), ("الجبنة النابلسية", "عجينة الكنافة", "القطر", "الفستق الحلبي"), ("نابلس",), "Palestine"),
        D("كسكس بالخضار", (READY,), ("السميد", "الجزر", "الكوسا", "الحمص", "رأس الحانوت"), ("فاس", "مراكش"), "Morocco"),
        D("طاجين لحم بالبرقوق", (READY,), ("لحم الغنم", "البرقوق", "اللوز", "القرفة", "الزعفران"), ("مراكش",), "Morocco"),
        D("معمول بالتمر", (SWEETS, BAKERY), ("السميد", "التمر", "ماء الورد", "السمن"), ("دمشق",), "Syria"),
    ], quals=("{} على الطريقة التقليدية", "{} من الشيف", "{} (وصفة العائلة)", "{} – إصدار خاص"),
       ing=("المكونات: {}.", "المكونات الرئيسية: {}."),
       sents=(
        "وصفة تقليدية متوارثة عبر الأجيال.",
        "~طهي بطيء على نار هادئة لنكهة غنية.",
        "خالٍ من المواد الحافظة والألوان الصناعية.",
        "~يُنصح بالتقديم مع الخبز العربي الطازج.",
        "خيار مثالي لمائدة العائلة.",
        "يُحفظ في الثلاجة بعد الفتح ويُستهلك خلال ثلاثة أيام.",
        "إنتاج يدوي بكميات صغيرة.",
        "مكونات مختارة من مزارعين محليين.",
        "~التسخين خمس دقائق فقط.",
        "طبق كلاسيكي من المطبخ العربي.",
       ),
       quotes=('يسميه زبائننا "طعم البيت".', 'حائز على جائزة "أفضل مذاق" لعام 2023.'),
       notes=("مسببات الحساسية: السمسم، القمح، الحليب.", "قد يحتوي على آثار من المكسرات."),
       tags=("حلال", "بيتي", "نباتي")),
]
EN = next(lg for lg in LANGS if lg.code == "en")

# --- rare features: all free of double quotes, so "quote" stays exact --------

def backslash_text(rng, cc, n):
    kind = rng.randrange(4)
    if kind == 0:
        return f"Ref. {cc}\\{n:05d}\\{rng.choice('ABCDEFGH')}"
    if kind == 1:
        return f"Image: C:\\catalogue\\{cc.lower()}\\fd_{n:06d}.jpg"
    if kind == 2:  # a literal backslash-n, not a newline
        return f"Label: Lot {rng.randrange(100, 999)}\\nBest before 12/{rng.randrange(25, 28)}"
    return f"Folder: D:\\photos\\{cc}\\"  # ends with a backslash; kept last


def tab_text(rng, lg):
    kind = rng.randrange(3)
    if kind == 0:
        return f"Lot:\t{rng.choice('KLMNPRST')}{rng.randrange(1000, 9999)}"
    if kind == 1:
        note = rng.choice(lg.notes)
        for colon in (" : ", ": ", "："):
            if colon in note:
                return note.replace(colon, colon.rstrip() + "\t", 1)
        return f"{note}\t(EU 1169/2011)"
    return f"kcal\t{rng.randrange(80, 600)}\tprotein\t{rng.randrange(1, 30)} g"


def html_text(rng):
    return rng.choice((
        "<script>alert('xss')</script>",
        "Now with <b>more</b> flavour!</script>",
        "<p>Serving tip: warm gently.</p><br/></script><!--",
        "</SCRIPT> &amp; <i>limited</i> run",
    ))


def long_parts(rng, lg, dish, cat):
    """Sentences for a product sheet of about LONG_BYTES bytes of UTF-8."""
    native = [rng.choice(lg.ing).format(lg.listing(list(dish[2])))] + rng.sample(lg.sents(cat), len(lg.sents(cat)))
    english = ["Product information:"] + rng.sample(EN.sents(cat), len(EN.sents(cat))) + [
        f"Per 100 g: {rng.randrange(80, 650)} kcal, {rng.randrange(1, 35)} g fat, "
        f"{rng.randrange(2, 70)} g carbohydrate, {rng.randrange(1, 30)} g protein, "
        f"{rng.randrange(1, 25) / 10} g salt.",
        "Storage: keep in a cool, dry place away from direct sunlight; once opened, refrigerate.",
        "This product was prepared in a kitchen that also handles gluten, milk, egg, nuts, "
        "peanuts, sesame, soy, celery, mustard, fish and crustaceans.",
    ]
    out, size, pool = [], 0, native + english
    while size < LONG_BYTES:
        if not pool:
            pool = rng.sample(lg.sents(cat), len(lg.sents(cat)))
        s = pool.pop(0)
        out.append(s)
        size += len(s.encode("utf-8")) + 1
    return out


# --- items --------------------------------------------------------------------

def price_for(rng, cat):
    lo, hi = PRICE_RANGE[cat]
    whole = rng.randrange(lo, hi + 1)
    if rng.random() < 0.1:
        return max(1, whole)
    return round(whole + rng.choice(CENTS) / 100, 2)


def make_item(i, seed, feats):
    """Item number i (1-based) with the rare features in feats."""
    rng = random.Random(seed * 1_000_003 + i)
    lg = LANGS[rng.randrange(len(LANGS))]
    dish = lg.dishes[rng.randrange(len(lg.dishes))]
    dname, cats, ings, regions, country = dish
    country = country or lg.country
    cat = rng.choice(cats)

    name = dname
    if rng.random() < 0.55:
        name = rng.choice(lg.quals).format(dname)
    if rng.random() < 0.2:
        name += ", " + rng.choice(SIZES_ML if cat in (DRINKS, WINE) else SIZES_G)

    if "long" in feats:
        parts = long_parts(rng, lg, dish, cat)
    else:
        parts = rng.sample(lg.sents(cat), rng.randint(1, 3))
        if rng.random() < 0.85:
            k = rng.randint(min(2, len(ings)), min(4, len(ings)))
            chosen = sorted(rng.sample(range(len(ings)), k))
            sentence = rng.choice(lg.ing).format(lg.listing([ings[j] for j in chosen]))
            parts.insert(0 if rng.random() < 0.7 else len(parts), sentence)
        if rng.random() < 0.15:
            parts.append(rng.choice(lg.notes))
    if "quote" in feats:
        parts.insert(rng.randint(0, len(parts)), rng.choice(lg.quotes))
    if "html" in feats:
        parts.insert(rng.randint(0, len(parts)), html_text(rng))
    if "tab" in feats:
        parts.append(tab_text(rng, lg))
    if "backslash" in feats:
        parts.append(backslash_text(rng, lg.code.upper(), i))
    if "newline" in feats:
        if len(parts) < 2:
            parts.append(rng.choice(lg.notes))
        gap = rng.randrange(1, len(parts))
        nl = "\n\n" if rng.random() < 0.25 else "\n"
        description = lg.join.join(parts[:gap]) + nl + lg.join.join(parts[gap:])
    else:
        description = lg.join.join(parts)
    if "emoji" in feats:
        e = rng.choice(EMOJI[cat])
        if rng.random() < 0.5:
            name = f"{name} {e}"
        else:
            description = f"{e} {description}" if rng.random() < 0.5 else f"{description} {e}"

    n_tags = rng.choices((0, 1, 2, 3, 4), weights=(15, 30, 30, 15, 10))[0]
    tag_pool = list(COMMON_TAGS) + list(lg.tags) * 2
    tags = []
    while len(tags) < n_tags:
        t = rng.choice(tag_pool)
        if t not in tags:
            tags.append(t)

    return {
        "uuid": f"fd-{i:06d}",
        "name": name,
        "description": description,
        "category": cat,
        "origin": {"country": country, "region": None if rng.random() < 0.08 else rng.choice(regions)},
        "tags": tags,
        "price": price_for(rng, cat),
        "in_stock": rng.random() < 0.87,
    }


def block_features(seed, b):
    """{offset in block: set of features} for block b, the same whatever the count."""
    rng = random.Random(seed * 7_919 + 500_000_003 + b)
    out = {}
    for feat, k in BLOCK_FEATURES:
        for off in rng.sample(range(BLOCK), k):
            out.setdefault(off, set()).add(feat)
    return out


def items(count, seed):
    for b in range((count + BLOCK - 1) // BLOCK):
        feats = block_features(seed, b)
        for off in range(BLOCK):
            i = b * BLOCK + off + 1
            if i > count:
                return
            yield make_item(i, seed, feats.get(off, ()))


def write(count, seed, out):
    def lines():
        for item in items(count, seed):
            yield json.dumps(item, ensure_ascii=False, separators=(",", ":")) + "\n"

    if out == "-":
        sys.stdout.reconfigure(encoding="utf-8", newline="\n")
        try:
            for line in lines():
                sys.stdout.write(line)
            sys.stdout.flush()
        except BrokenPipeError:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return
    d = os.path.dirname(os.path.abspath(out))
    os.makedirs(d, exist_ok=True)
    tmp = f"{out}.tmp{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            buf = []
            for line in lines():
                buf.append(line)
                if len(buf) >= 4096:
                    f.write("".join(buf))
                    buf.clear()
            f.write("".join(buf))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, out)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def main():
    default_out = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                               "batch", "items.jsonl")
    p = argparse.ArgumentParser(description="Write a multilingual food-catalogue JSONL sample.")
    p.add_argument("--count", type=int, default=1000, help="number of items (default 1000)")
    p.add_argument("--out", default=default_out, help="output file, '-' for stdout (default batch/items.jsonl)")
    p.add_argument("--seed", type=int, default=20241001, help="RNG seed (default 20241001)")
    a = p.parse_args()
    if a.count < 0:
        p.error("--count must be >= 0")
    write(a.count, a.seed, a.out)


if __name__ == "__main__":
    main()
