/**
 * Word lists for realistic VendHub rows: Russian and Uzbek names and addresses (non-ASCII on
 * purpose: the migration must carry UTF-8 intact), products, and strings that are hard to
 * escape (commas, quotes, backslashes, braces, the word NULL) for text[] columns.
 */

export const FIRST_NAMES = [
  'Алексей', 'Мария', 'Дмитрий', 'Ольга', 'Сергей', 'Анна', 'Бекзод', 'Дилноза', 'Тимур', 'Зарина',
  'Ильдар', 'Екатерина', 'Jasur', 'Nodira', 'Рустам', 'Юлия', 'Фёдор', 'Ёркин', 'Шахноза', 'Pavel',
] as const;

export const LAST_NAMES = [
  'Иванов', 'Петрова', 'Смирнов', 'Каримов', 'Юсупова', 'Ахмедов', 'Кузнецова', 'Рахимов', 'Соколов',
  'Набиева', 'Tursunov', 'Ли', 'Ким', 'Абдуллаев', 'Волкова', 'Хасанов', "O'ktamov", 'Шевченко',
] as const;

/** Latin handles for e-mail local parts (picked independently of the Cyrillic name). */
export const LATIN_HANDLES = [
  'alexey', 'maria', 'dmitry', 'olga', 'sergey', 'anna', 'bekzod', 'dilnoza', 'timur', 'zarina',
  'ildar', 'ekaterina', 'jasur', 'nodira', 'rustam', 'yulia', 'fedor', 'yorkin', 'shakhnoza', 'pavel',
] as const;

export const CITIES = ['Москва', 'Ташкент', 'Санкт-Петербург', 'Самарканд', 'Казань', 'Toshkent', 'Бухара', 'Новосибирск'] as const;

export const STREETS = [
  'ул. Тверская', 'пр-т Мира', 'ул. Амира Темура', 'Невский пр-т', 'ул. Навои', 'ул. Баумана',
  'Chilonzor ko\'chasi', 'ул. Льва Толстого', 'наб. Тараса Шевченко', 'ул. Мустакиллик',
] as const;

export const PLACES = [
  'ТЦ «Самбил»', 'Бизнес-центр "Сити"', 'Вокзал, зал ожидания №2', 'Университет, корпус Б',
  'Фитнес-клуб «Атлет»', 'Больница №1, приёмное отделение', 'Аэропорт, терминал 2', 'Metro Oybek',
  'Офис VendHub 🏢', 'Кинотеатр «Родина»', 'Склад; рампа 3', 'ЖК «Ташкент Сити», лобби',
] as const;

export const MACHINE_TYPES = ['coffee', 'snack', 'combo', 'water', 'fresh-juice', 'ice-cream'] as const;

export const MACHINE_MODELS = ['Necta Kalea', 'Bianchi Lei 700', 'Saeco Atlante', 'Jofemar Vision', 'Unicum Foodbox', 'FAS Perla'] as const;

export const PRODUCTS = [
  ['Кофе зерновой Lavazza Crema e Aroma', 'coffee'], ['Сливки сухие', 'ingredients'], ['Сахар порционный', 'ingredients'],
  ['Стаканчики 250 мл', 'consumables'], ['Крышки для стаканов', 'consumables'], ['Шоколадный батончик Snickers', 'snacks'],
  ['Чипсы Lay\'s сметана и зелень', 'snacks'], ['Вода «Hydrolife» 0,5 л', 'drinks'], ['Coca-Cola 0.33', 'drinks'],
  ['Молоко сухое', 'ingredients'], ['Чай зелёный 🍵', 'tea'], ['Какао-порошок', 'ingredients'], ['Размешиватели', 'consumables'],
  ['Апельсины для фреша', 'fruit'], ['Мороженое «Пломбир»', 'frozen'], ['Вафли "Артек"', 'snacks'],
] as const;

export const TASK_TITLES = [
  'Пополнение ингредиентов', 'Инкассация', 'Чистка автомата', 'Ремонт купюроприёмника', 'Замена фильтра воды',
  'Проверка датчика температуры', 'Установка нового автомата', 'Refill snacks', 'Обновление прошивки', 'Жалоба клиента: не выдал сдачу',
] as const;

export const COMMENTS = [
  'Всё в порядке', 'Заменил фильтр, старый в мусор', 'Нет доступа: охрана не пустила 🚫', 'Клиент жалуется на вкус кофе',
  'Done, see photos', 'Монетоприёмник забит — почистил', 'Фото «до» и «после» приложены', 'Долг по инкассации: 12 500 ₽',
  'Нужен техник; код ошибки E-17', 'Line one\nline two (multi-line comment)', 'Tab\tseparated note', 'Backslash \\ in path C:\\vend',
] as const;

/** Telemetry error codes: the awkward ones exercise array quoting in both COPY and array literals. */
export const ERROR_CODES = [
  'E01: coin jam', 'E07: coin jam, slot 3', 'sensor "T1" offline', 'path C:\\vend\\log', '{braces}', 'NULL', '',
  ' leading blank', 'Дверь открыта', '⚠️ low water', "it's stuck", 'E42',
] as const;

export const PAYMENT_TYPES = ['cash', 'card', 'qr_payme', 'qr_click', 'uzcard', 'sbp'] as const;
export const PAYMENT_STATUSES = ['completed', 'completed', 'completed', 'refunded', 'failed', 'pending'] as const;
export const CURRENCIES = ['RUB', 'RUB', 'UZS', 'USD'] as const;

export const SERVICE_TYPES = ['cleaning', 'repair', 'calibration', 'inspection', 'software_update'] as const;
export const ACTIONS = ['started', 'photo_before', 'refilled', 'comment', 'photo_after', 'completed'] as const;
export const AUDIT_ACTIONS = ['CREATE', 'UPDATE', 'DELETE', 'LOGIN', 'LOGOUT', 'EXPORT'] as const;
export const AUDIT_ENTITIES = ['Machine', 'Task', 'User', 'InventoryItem', 'Transaction', 'Location'] as const;
export const MOVEMENT_REASONS = ['Поставка от поставщика', 'Загрузка в автомат', 'Инвентаризация', 'Списание: просрочка', 'Перемещение между складами', 'Возврат'] as const;
export const WAREHOUSES = ['Склад Центральный', 'Склад «Юг»', 'Машина #3 (Газель)', 'Warehouse North'] as const;

export const USER_AGENTS = [
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 VendHubApp/3.2.1',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36',
  'okhttp/4.12.0', 'TelegramBot (like TwitterBot)', 'vendhub-cron/1.0',
] as const;
