"""Arabic function words dropped by the analyzer (written naturally, normalised at import)."""

#: Question words of the dialects (Levantine, Egyptian, Gulf, Iraqi, Maghrebi) as people
#: type them: dropped like MSA's متى / أين / كم so that they never match a document's
#: words. Left out because they are also content words: متين (solid), شي (Xi), مو (Mo),
#: دي (de Mistura), جم (many). retrieval/question_words.py reads the types they ask for.
DIALECT_QUESTION_WORDS = """
شو ايش إيش وش شنو شنهو شنوة وين فين وينه وينها فينه فينها لوين لفين امتى إمتى
ايمتى إيمتى امتا وقتاش ليش ليه علاش قديش قدّيش قداش كام بكام چم شقد ازاي إزاي
كيفاش شلون اشلون وشلون مين منو شكون منهو لمين
""".split()
#: A few dialect function words as frequent in questions as الذي / لأن / هكذا.
DIALECT_FUNCTION_WORDS = "اللي إللي هيك عشان علشان".split()

RAW_STOPWORDS = """
في من على إلى الى عن مع إن أن ان إنّ أنّ لا لم لن ما ماذا متى أين اين كيف لماذا هل كم أي أيّ
و ف ب ل ك ثم أو او أم بل لكن لكنّ لكنه لكنها حتى إذا اذا إذ لو لولا كي قد لقد سوف
هذا هذه هذان هاتان هؤلاء ذلك تلك ذلكم أولئك هنا هناك هنالك
الذي التي الذين اللذان اللتان اللاتي اللواتي اللائي
هو هي هم هن هما أنا انا نحن أنت انت أنتم انتم أنتما أنتن إياه إياها إياهم
كان كانت كانوا يكون تكون يكونون ليس ليست
عند عندما بين بينما قبل بعد فوق تحت خلال حول ضد دون منذ لدى لدي نحو عبر
كل بعض غير سوى أيضا أيضاً ايضا جدا فقط كما مثل حيث بينه بينها
التى الذى إلي علي
به بها له لها لهم لهن منه منها منهم فيه فيها فيهم عليه عليها عليهم عنه عنها عنهم
إليه إليها إليهم معه معها معهم
وهو وهي وهم وقد وفي ومن وعلى وإلى وعن ومع وأن وإن ولا ولم ولن وما وهذا وهذه وذلك وكان وكانت
فقد فإن فلا فما بأن بما لما مما عما ممن فيما كأن كما لأن لان
يا أيها ها نعم كلا
ماهو ماهي ماهى ماهيه بماذا وماذا فماذا لمن بمن وهل فهل وكم بكم
تم يتم تمت وتم لديه لديها لديهم لديك أحد إحدى أيه ضمن وفق
""".split() + DIALECT_QUESTION_WORDS + DIALECT_FUNCTION_WORDS
