"""Writes data/zeroshot-sample/: a small sample set WRITTEN FOR THIS PROJECT in the schemas of the
seven lm-eval tasks' datasets. It is NOT the real benchmark: no item is taken from ai2_arc, piqa,
super_glue/boolq, hellaswag, winogrande or openbookqa. It exists so tests and the demo run offline.

Run: python3 tools/zeroshot_sample/make_sample.py   (deterministic; rewrites the files)
"""
import json
import os
import random

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "data", "zeroshot-sample")
rng = random.Random(2026)

# (question, correct answer, three wrong answers)
FACTS = [
    ("Which gas do plants take in from the air to make food?", "carbon dioxide", ["oxygen", "helium", "neon"]),
    ("What is the boiling point of water at sea level?", "100 degrees Celsius", ["50 degrees Celsius", "0 degrees Celsius", "200 degrees Celsius"]),
    ("Which organ pumps blood through the body?", "the heart", ["the lungs", "the liver", "the stomach"]),
    ("What force pulls objects toward the center of the Earth?", "gravity", ["magnetism", "friction", "wind"]),
    ("Which planet is closest to the Sun?", "Mercury", ["Mars", "Jupiter", "Neptune"]),
    ("What do bees collect from flowers to make honey?", "nectar", ["sand", "leaves", "bark"]),
    ("Which state of matter has a fixed shape?", "a solid", ["a gas", "a liquid", "a plasma"]),
    ("What causes day and night on Earth?", "the rotation of the Earth", ["the phases of the Moon", "the tides", "the seasons"]),
    ("Which tool measures temperature?", "a thermometer", ["a ruler", "a scale", "a compass"]),
    ("What is frozen water called?", "ice", ["steam", "fog", "dew"]),
    ("Which animal is a mammal?", "a whale", ["a shark", "a trout", "a frog"]),
    ("Where does most of the Earth's fresh water exist as ice?", "in glaciers and ice caps", ["in the oceans", "in deserts", "in volcanoes"]),
    ("What part of a plant absorbs water from the soil?", "the roots", ["the flowers", "the seeds", "the petals"]),
    ("Which energy source is renewable?", "sunlight", ["coal", "oil", "natural gas"]),
    ("What happens to most metals when they are heated?", "they expand", ["they shrink", "they freeze", "they dissolve"]),
    ("Which body part helps a fish breathe under water?", "gills", ["fins", "scales", "tail"]),
    ("What is the main source of light for the Earth during the day?", "the Sun", ["the Moon", "the stars", "lightning"]),
    ("Which material conducts electricity best?", "copper", ["wood", "rubber", "glass"]),
    ("How many legs does an insect have?", "six", ["four", "eight", "ten"]),
    ("What do we call animals that eat only plants?", "herbivores", ["carnivores", "predators", "scavengers"]),
    ("Which layer of the Earth do we live on?", "the crust", ["the core", "the mantle", "the magma"]),
    ("Why do we see lightning before we hear thunder?", "light travels faster than sound", ["sound travels faster than light", "thunder happens later", "our ears are slow"]),
    ("Which change is a chemical change?", "wood burning", ["ice melting", "paper tearing", "water boiling"]),
    ("What keeps the Moon in orbit around the Earth?", "gravity", ["air pressure", "sunlight", "ocean tides"]),
]


def arc(difficulty, start):
    rows = []
    for i, (q, right, wrong) in enumerate(FACTS):
        n = 4 if i % 6 else 3  # some items with three choices, like the real data
        opts = [right] + wrong[: n - 1]
        rng.shuffle(opts)
        labels = ["A", "B", "C", "D"][:n] if i % 5 else ["1", "2", "3", "4"][:n]
        rows.append({
            "id": f"Sample-{difficulty}-{start + i:03d}",
            "question": q,
            "choices": {"text": opts, "label": labels},
            "answerKey": labels[opts.index(right)],
        })
    return rows


def openbookqa():
    rows = []
    for i, (q, right, wrong) in enumerate(FACTS):
        opts = [right] + wrong
        rng.shuffle(opts)
        stem = q
        rows.append({
            "id": f"sample-{i}",
            "question_stem": stem,
            "choices": {"text": opts, "label": ["A", "B", "C", "D"]},
            "answerKey": ["A", "B", "C", "D"][opts.index(right)],
        })
    return rows


PIQA = [
    ("To keep bread fresh for longer,", "store it in a sealed bag at room temperature.", "store it in an open box in the sun."),
    ("How do I loosen a tight jar lid?", "Run the lid under hot water, then twist it.", "Put the jar in the freezer upside down and shake it."),
    ("To sharpen a pencil without a sharpener,", "carefully shave the wood away with a knife.", "rub the tip against a pillow."),
    ("How can I dry wet shoes quickly?", "Stuff them with newspaper and leave them near a fan.", "Fill them with water and wait."),
    ("To remove a splinter from a finger,", "use clean tweezers to pull it out along its path.", "press it deeper with your thumb."),
    ("How do you keep a cut apple from turning brown?", "Brush the slices with lemon juice.", "Leave the slices in the sun."),
    ("To clean a greasy pan,", "soak it in hot soapy water before scrubbing.", "wipe it with a dry paper towel only."),
    ("How can I cool a hot drink faster?", "Pour it into a wide, shallow cup.", "Cover it with a thick blanket."),
    ("To light a campfire,", "start with small dry twigs and add larger wood slowly.", "put the biggest log on a wet leaf and wait."),
    ("How do I stop a door from squeaking?", "Put a few drops of oil on the hinges.", "Paint the door a darker colour."),
    ("To boil an egg,", "place it in boiling water for about nine minutes.", "place it in cold water in the fridge for nine minutes."),
    ("How can I find a small screw dropped on the carpet?", "Cover a vacuum nozzle with a thin sock and vacuum slowly.", "Pour water on the carpet and wait for the screw to float."),
    ("To make a paper airplane fly farther,", "fold the wings evenly and add a little weight to the nose.", "crumple the paper into a ball first."),
    ("How do you keep ice cream from getting icy?", "Press plastic wrap onto its surface before closing the lid.", "Leave the lid off in the freezer."),
    ("To water a plant while away for a weekend,", "set a bottle of water upside down in the soil.", "put the plant in a dark closet without water."),
    ("How can I keep my glasses from fogging up?", "Wash the lenses with a drop of dish soap and let them dry.", "Breathe on the lenses before going outside."),
    ("To hang a picture straight,", "use a level to mark the nail position.", "guess by looking at it from across the street."),
    ("How do I get rid of a sticker residue?", "Rub it with a little cooking oil, then wipe it off.", "Cover it with another sticker."),
    ("To pack a suitcase tightly,", "roll the clothes instead of folding them.", "throw the clothes in loosely and sit on it."),
    ("How can I make rice less sticky?", "Rinse the rice in cold water before cooking it.", "Stir it constantly with glue."),
    ("To untangle a necklace chain,", "lay it flat and loosen the knot with two pins.", "pull both ends as hard as possible."),
    ("How do I keep flowers fresh in a vase?", "Cut the stems at an angle and change the water daily.", "Put the vase in a hot oven."),
    ("To open a coconut,", "tap around its middle with the back of a heavy knife.", "soak it in milk until it opens."),
    ("How can I warm my hands quickly in the cold?", "Rub them together briskly.", "Hold them in a bucket of snow."),
]


def piqa():
    rows = []
    for i, (goal, good, bad) in enumerate(PIQA):
        label = i % 2
        sols = (good, bad) if label == 0 else (bad, good)
        rows.append({"goal": goal, "sol1": sols[0], "sol2": sols[1], "label": label})
    return rows


BOOLQ = [
    ("Water", "Water is a chemical substance made of hydrogen and oxygen. At sea level it freezes at 0 degrees Celsius and boils at 100 degrees Celsius.", [("does water boil at 100 degrees celsius at sea level", 1), ("does water freeze at 50 degrees celsius", 0)]),
    ("Moon", "The Moon is Earth's only natural satellite. It has no light of its own and reflects the light of the Sun.", [("does the moon make its own light", 0), ("is the moon a natural satellite of the earth", 1)]),
    ("Penguin", "Penguins are flightless birds that live almost only in the Southern Hemisphere. They are excellent swimmers.", [("can penguins fly", 0), ("are penguins good swimmers", 1)]),
    ("Piano", "The piano is a keyboard instrument in which hammers strike strings. A standard modern piano has 88 keys.", [("does a standard piano have 88 keys", 1), ("is the piano a wind instrument", 0)]),
    ("Sahara", "The Sahara is a desert in North Africa and one of the largest hot deserts in the world. It receives very little rain.", [("is the sahara in north africa", 1), ("does the sahara receive a lot of rain", 0)]),
    ("Tomato", "The tomato is the edible berry of a plant in the nightshade family. It is usually eaten as a vegetable.", [("is a tomato botanically a berry", 1), ("is the tomato plant a kind of tree", 0)]),
    ("Olympics", "The modern Olympic Games began in Athens in 1896. The summer and winter games now alternate every two years.", [("did the modern olympics begin in 1896", 1), ("are the summer and winter games held in the same year", 0)]),
    ("Spider", "Spiders are arachnids with eight legs. Most spiders spin silk, which they use to build webs and wrap their prey.", [("do spiders have six legs", 0), ("do most spiders spin silk", 1)]),
    ("Mount Everest", "Mount Everest is the highest mountain above sea level. It lies in the Himalayas on the border of Nepal and China.", [("is mount everest in the himalayas", 1), ("is mount everest in south america", 0)]),
    ("Bicycle", "A bicycle is a human-powered vehicle with two wheels attached to a frame. The rider turns pedals that drive the rear wheel.", [("does a bicycle have an engine", 0), ("does pedalling drive the rear wheel of a bicycle", 1)]),
    ("Café culture", "A café is a small restaurant serving coffee and light meals. Many cities in Europe are known for their café culture — people meet there for hours.", [("do cafés usually serve coffee", 1), ("is a café a kind of large factory", 0)]),
    ("Honey", "Honey is a sweet food made by bees from the nectar of flowers. Sealed honey can keep for a very long time.", [("is honey made by bees", 1), ("does sealed honey spoil within a day", 0)]),
]


def boolq():
    rows = []
    for title, passage, qs in BOOLQ:
        for q, label in qs:
            rows.append({"question": q, "passage": f"{title} -- {passage}", "idx": len(rows), "label": label})
    return rows


# (activity label, ctx_a, ctx_b, endings (first correct), source, wikihow?)
HELLASWAG = [
    ("Washing dishes", "A man stands at a kitchen sink full of plates.", "he", ["turns on the tap and scrubs each plate with a sponge.", "climbs onto the roof with the plates.", "throws the sink out of the window.", "paints the plates blue and eats them."], False),
    ("Making a sandwich", "A woman lays two slices of bread on a board.", "she", ["spreads butter on them and adds cheese and ham.", "plants the bread in the garden.", "folds the board in half.", "drives the bread to the airport."], False),
    ("Playing guitar", "A boy sits on a chair holding a guitar.", "he", ["strums the strings while pressing chords with his other hand.", "eats the guitar strings one by one.", "uses the guitar as a boat on the lake.", "hangs the chair on the wall."], False),
    ("Brushing teeth", "A girl squeezes toothpaste onto a brush.", "she", ["brushes her teeth in small circles and rinses her mouth.", "brushes the dog's tail with it.", "puts the brush in the oven.", "writes a letter with the toothpaste."], False),
    ("Mowing the lawn", "A man pushes a lawn mower across a yard.", "the grass", ["is cut into neat rows behind him.", "jumps into the swimming pool.", "turns into snow.", "starts to sing loudly."], False),
    ("Skiing", "A skier stands at the top of a snowy slope.", "she", ["pushes off with her poles and glides down the hill.", "takes off her skis and swims up the hill.", "lies down and falls asleep on the lift.", "eats the snow until the hill is gone."], False),
    ("Home and Garden", "[header] How to water a houseplant [title] Check the soil.", "[step] Push a finger into the soil.", ["If it is dry an inch down, the plant needs water.", "If it is wet, throw the plant away at once.", "Then paint the pot with the water.", "Then put the plant in the freezer for a week."], True),
    ("Food and Entertaining", "[header] How to make tea [title] Boil the water.", "[step] Fill a kettle and heat it.", ["When the water boils, pour it over the tea bag.", "When the water is cold, freeze the tea bag.", "Then pour the kettle into your shoes.", "Then eat the tea bag without any water."], True),
    ("Personal Care and Style", "[header] How to tie a tie [title] Drape the tie around your neck.", "[step] The wide end should hang lower.", ["Cross the wide end over the narrow end and loop it up.", "Cut the tie in half with scissors.", "Tie the tie around your ankle instead.", "Throw the tie into the washing machine."], True),
    ("Cleaning a window", "A woman sprays cleaner on a window.", "she", ["wipes the glass with a cloth until it shines.", "opens the window and jumps out.", "spreads mud over the glass.", "rides a bicycle through the window."], False),
    ("Baking cookies", "A man takes a tray of cookies out of the oven.", "he", ["sets the tray on a rack to cool.", "puts the tray back into the fridge to bake.", "pours water over the oven.", "throws the cookies at the ceiling."], False),
    ("Walking the dog", "A woman clips a leash to her dog's collar.", "they", ["walk together down the street to the park.", "fly together to the Moon.", "sit in the bathtub for hours.", "paint the leash green."], False),
    ("Sports and Fitness", "[header] How to stretch before running [title] Warm up first.", "[step] Walk briskly for five minutes.", ["Then stretch your calves against a wall.", "Then sleep for five hours.", "Then eat a large cake.", "Then run with your eyes closed."], True),
    ("Painting a fence", "A man dips a brush into a can of white paint.", "he", ["paints the fence boards with long, even strokes.", "drinks the paint from the can.", "paints the grass under the fence pink.", "buries the can in the sand."], False),
    ("Reading a book", "A girl opens a book on her bed.", "she", ["reads the first page and turns to the next.", "tears the pages and eats them.", "throws the bed out of the room.", "uses the book as a hat."], False),
    ("Cutting hair", "A barber wraps a cape around a customer.", "the barber", ["trims the hair with scissors and a comb.", "cuts the chair in half.", "shaves the floor carefully.", "sends the customer to the moon."], False),
    ("Swimming", "A boy stands at the edge of a pool.", "he", ["dives in and swims to the other end.", "drinks the pool until it is empty.", "builds a house on the water.", "paints the water red."], False),
    ("Education and Communications", "[header] How to write a letter [title] Write the date.", "[step] Put the date at the top right.", ["Then write a greeting on the next line.", "Then burn the paper.", "Then mail the pen.", "Then eat the envelope."], True),
    ("Planting a tree", "A woman digs a hole in the garden.", "she", ["sets the young tree in the hole and fills it with soil.", "jumps into the hole and hides forever.", "fills the hole with ice cream.", "plants the shovel instead of the tree."], False),
    ("Ironing a shirt", "A man lays a wrinkled shirt on an ironing board.", "he", ["presses the hot iron over the cloth until it is smooth.", "irons the cat.", "puts the shirt in the oven.", "throws the iron into the river."], False),
    ("Holidays and Traditions", "[header] How to wrap a gift [title] Measure the paper.", "[step] Place the box on the paper.", ["Cut enough paper to cover all sides.", "Cut the box into small pieces.", "Eat the paper before wrapping.", "Mail the scissors to a friend."], True),
    ("Riding a bike", "A child climbs onto a bicycle.", "the child", ["pedals slowly down the path.", "eats the handlebars.", "sleeps on the wheels.", "turns the bicycle into a kite."], False),
    ("Cooking pasta", "A cook pours pasta into a pot of boiling water.", "he", ["stirs it and waits until it is tender.", "pours the pot on the floor.", "puts the pasta into the freezer.", "throws the pot through the window."], False),
    ("Building a snowman", "Two kids roll a large snowball across a yard.", "they", ["stack a smaller ball on top and add a carrot nose.", "throw the snowball into the oven.", "melt the snow with a hair dryer to drink it.", "turn the snowball into a car."], False),
]


def hellaswag():
    rows = []
    for i, (label, a, b, endings, wiki) in enumerate(HELLASWAG):
        gold = i % 4
        ends = endings[1:]
        ends.insert(gold, endings[0])
        rows.append({
            "ind": 1000 + i,
            "activity_label": label,
            "ctx_a": a,
            "ctx_b": b,
            "ctx": a + " " + b,
            "endings": ends,
            "source_id": f"sample~{i}" if wiki else f"sample-video-{i}",
            "split": "val",
            "split_type": "indomain" if i % 2 else "zeroshot",
            "label": str(gold),
        })
    return rows


# (sentence with _, option1, option2, answer)
WINOGRANDE = [
    ("The trophy doesn't fit into the suitcase because the _ is too large.", "trophy", "suitcase", "1"),
    ("The trophy doesn't fit into the suitcase because the _ is too small.", "trophy", "suitcase", "2"),
    ("Sarah lent her umbrella to Maria because _ was going out in the rain.", "Sarah", "Maria", "2"),
    ("The ice melted faster than the butter because the _ was closer to the fire.", "ice", "butter", "1"),
    ("John couldn't lift the box onto the shelf because the _ was too heavy.", "box", "shelf", "1"),
    ("The cat chased the mouse until the _ hid in a small hole.", "cat", "mouse", "2"),
    ("Anna was taller than Lisa, so _ reached the top shelf for her.", "Anna", "Lisa", "1"),
    ("The glass broke when it fell on the floor because the _ was so hard.", "glass", "floor", "2"),
    ("The soup was colder than the tea, so Tom reheated the _ first.", "soup", "tea", "1"),
    ("Mark gave his old bike to Peter because _ had outgrown it.", "Mark", "Peter", "1"),
    ("The river flooded the road since the _ was lower.", "river", "road", "2"),
    ("Emma studied harder than Kate, so _ passed the exam easily.", "Emma", "Kate", "1"),
    ("The lamp lit up the room but the _ stayed dark in the corner.", "lamp", "room", "2"),
    ("The dog barked at the mailman because the _ came to the door.", "dog", "mailman", "2"),
    ("The shoes didn't fit in the box because the _ were too big.", "shoes", "box", "1"),
    ("Lucy asked Nora for help with math because _ was good at it.", "Lucy", "Nora", "2"),
    ("The bread was softer than the cracker, so the _ was easier to chew.", "bread", "cracker", "1"),
    ("The car passed the truck because the _ was driving slowly.", "car", "truck", "2"),
    ("The nail went into the wood but not the stone, since the _ was hard.", "wood", "stone", "2"),
    ("Ben thanked Sam because _ had helped him move.", "Ben", "Sam", "2"),
    ("The café served better coffee than the diner, so we went to the _ again.", "café", "diner", "1"),
    ("The plant grew by the window and not in the hall because the _ was sunny.", "window", "hall", "1"),
    ("The child hid behind the tree because the _ was wide.", "child", "tree", "2"),
    ("Maria's painting sold before Julia's because _ painting was brighter.", "Maria's", "Julia's", "1"),
]


def winogrande():
    return [{"sentence": s, "option1": a, "option2": b, "answer": ans} for s, a, b, ans in WINOGRANDE]


def write(name, rows):
    with open(os.path.join(OUT, f"{name}.jsonl"), "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


os.makedirs(OUT, exist_ok=True)
write("arc_easy", arc("Easy", 0))
write("arc_challenge", arc("Challenge", 100))
write("openbookqa", openbookqa())
write("piqa", piqa())
write("boolq", boolq())
write("hellaswag", hellaswag())
write("winogrande", winogrande())
